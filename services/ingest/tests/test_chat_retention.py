"""Retention and text storage turned off reach the CHAT_EVENTS stream, on real NATS and
PostgreSQL (each test has its own database, subject prefix and ingest)."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date

import pytest
from nats.js.api import AckPolicy, ConsumerConfig
from prometheus_client import CollectorRegistry

from services.ingest.tests.test_chat_events import (
    ANN,
    BOB,
    CAT,
    ChatEnv,
    Events,
    at,
    chat_environment,
)
from tally.chatstore.write.retention import retention_pass
from tally.cli.seed_chats import publish_chat_events
from tally.contracts.chat_events import (
    ChatSettings,
    MemberChanged,
    MessageEdited,
    ReactionChanged,
    SettingsChanged,
)
from tally.ingest.app import create_broker_for, stop_chat_consumer

Stored = list[tuple[int, str, str, str | None]]


@pytest.fixture
async def env(nats_url: str, server_database_url: str) -> AsyncIterator[ChatEnv]:
    async with chat_environment(nats_url, server_database_url) as environment:
        yield environment


async def in_stream(env: ChatEnv) -> Stored:
    """Every event left in the stream: (chat id, kind, occurred_at, text), in stream order."""
    subscription = await env.js.pull_subscribe(
        env.subjects.chat_events_all,
        stream=env.subjects.chat_events_stream,
        config=ConsumerConfig(ack_policy=AckPolicy.NONE, mem_storage=True),
    )
    found: Stored = []
    try:
        while True:
            try:
                fetched = await subscription.fetch(100, timeout=0.5)
            except TimeoutError:  # nats-py raises its own, or asyncio's when the time runs out
                return found
            for message in fetched:
                body = json.loads(message.data)
                found.append((body["chat_id"], body["kind"], body["occurred_at"], body.get("text")))
    finally:
        await subscription.unsubscribe()


async def test_a_retention_pass_purges_old_rows_and_old_events(env: ChatEnv) -> None:
    """One pass deletes a chat's raw rows and stream events older than its retention; newer
    events, settings and chats without retention stay, and a rebuild restores just those."""
    now = at("2025-06-01T00:00:00")  # cutoff: 2025-05-02
    old, kept = Events(-100_700), Events(-100_701)
    await env.publish(
        [
            SettingsChanged(
                **old.common("2025-03-01T00:00:00"), settings=ChatSettings(retention_days=30)
            ),
            old.message("2025-04-01T10:00:00", 1),
            ReactionChanged(
                **old.common("2025-04-02T11:00:00"), message_id=1, user=BOB, new=("👍",)
            ),
            MemberChanged(**old.common("2025-04-03T10:00:00"), user=CAT, change="join"),
            kept.message("2025-04-01T10:00:00", 1),
            old.message("2025-05-20T10:00:00", 2),
            MemberChanged(**old.common("2025-05-21T10:00:00"), user=BOB, change="leave"),
        ]
    )

    [counts] = await retention_pass(engine=env.db, js=env.js, subjects=env.subjects, now=now)

    assert (counts.messages, counts.member_events, counts.reactions) == (1, 1, 1)
    assert counts.stream_events == 3
    assert [(chat, kind, moment[:10]) for chat, kind, moment, _ in await in_stream(env)] == [
        (-100_700, "settings", "2025-03-01"),
        (-100_701, "message", "2025-04-01"),
        (-100_700, "message", "2025-05-20"),
        (-100_700, "member", "2025-05-21"),
    ]
    again = await retention_pass(engine=env.db, js=env.js, subjects=env.subjects, now=now)
    assert [(c.messages, c.stream_events) for c in again] == [(0, 0)]

    await asyncio.to_thread(env.tally, "replay", "--stream", "CHAT_EVENTS", "--rebuild")
    assert await env.rows("SELECT chat_id, message_id FROM messages ORDER BY 1, 2") == [
        (-100_701, 1),
        (-100_700, 2),
    ]
    assert await env.rows("SELECT change FROM member_events") == [("leave",)]
    assert await env.rows("SELECT retention_days FROM chats WHERE chat_id = -100700") == [(30,)]


async def test_cli_retention_apply_purges_the_stream_too(env: ChatEnv) -> None:
    """``tally retention --apply`` runs the same pass: rows and stream events go."""
    chat = Events(-100_710)
    await env.publish(
        [
            SettingsChanged(
                **chat.common("2020-01-01T00:00:00"), settings=ChatSettings(retention_days=1)
            ),
            chat.message("2020-01-02T10:00:00", 1),
        ]
    )
    output = await asyncio.to_thread(env.tally, "retention", "--apply")
    assert "stream events" in output
    assert [kind for _, kind, _, _ in await in_stream(env)] == ["settings"]
    assert await env.rows("SELECT count(*) FROM messages") == [(0,)]


async def test_events_ingest_has_not_stored_are_not_purged(env: ChatEnv) -> None:
    """An event older than the cutoff that ingest has not acknowledged yet (a backlog after
    downtime, an imported history) stays in the stream through a pass; once ingest stores
    it, its rows are counted, and the next pass purges it."""
    now = at("2025-06-01T00:00:00")  # cutoff: 2025-05-02
    chat = Events(-100_720)
    await env.publish(
        [
            SettingsChanged(
                **chat.common("2025-03-01T00:00:00"), settings=ChatSettings(retention_days=30)
            )
        ]
    )
    await stop_chat_consumer(env.ingest)
    await env.ingest.stop()
    await publish_chat_events(
        env.js,
        env.subjects,
        [chat.message("2025-04-01T10:00:00", 1), chat.message("2025-05-20T10:00:00", 2)],
    )

    [counts] = await retention_pass(engine=env.db, js=env.js, subjects=env.subjects, now=now)

    assert counts.stream_events == 0
    assert [(kind, moment[:10]) for _, kind, moment, _ in await in_stream(env)] == [
        ("settings", "2025-03-01"),
        ("message", "2025-04-01"),
        ("message", "2025-05-20"),
    ]
    ingest = create_broker_for(env.settings, engine=env.db, registry=CollectorRegistry())
    await ingest.start()
    try:
        await env.settled()
        assert await env.rows(
            "SELECT day, messages FROM chat_daily WHERE chat_id = -100720 ORDER BY day"
        ) == [(date(2025, 4, 1), 1), (date(2025, 5, 20), 1)]
        [counts] = await retention_pass(engine=env.db, js=env.js, subjects=env.subjects, now=now)
        assert (counts.messages, counts.stream_events) == (1, 1)
        assert [kind for _, kind, _, _ in await in_stream(env)] == ["settings", "message"]
    finally:
        await stop_chat_consumer(ingest)
        await ingest.stop()


def texts(stored: Stored, chat_id: int) -> list[tuple[str, str | None]]:
    return [
        (kind, text) for chat, kind, _, text in stored if chat == chat_id and kind != "settings"
    ]


async def test_turning_text_storage_off_removes_the_text_from_table_and_stream(
    env: ChatEnv,
) -> None:
    """After store_text=false, the chat's stored text is nulled and its text-carrying
    events leave the stream (a late one with text is deleted on arrival); other chats keep
    theirs, and events without text published afterwards stay."""
    quiet, other = Events(-100_720), Events(-100_721)
    on = ChatSettings(store_text=True)
    await env.publish(
        [
            SettingsChanged(**quiet.common("2025-11-01T00:00:00"), settings=on),
            SettingsChanged(**other.common("2025-11-01T00:00:00"), settings=on),
            quiet.message("2025-11-02T10:00:00", 1, text="canary one"),
            MessageEdited(
                **quiet.common("2025-11-02T10:05:00"),
                message_id=1,
                sent_at=at("2025-11-02T10:00:00"),
                text="canary edited",
            ),
            other.message("2025-11-02T10:00:00", 1, text="other chat keeps this"),
        ]
    )
    assert await env.rows("SELECT text FROM messages WHERE chat_id = -100720") == [
        ("canary edited",)
    ]

    await env.publish(
        [
            SettingsChanged(**quiet.common("2025-11-03T00:00:00"), settings=ChatSettings()),
            quiet.message("2025-11-03T10:00:00", 2, sender=ANN, text="canary late"),
            quiet.message("2025-11-03T11:00:00", 3),
        ]
    )

    assert await env.rows("SELECT message_id, text FROM messages WHERE chat_id = -100720") == [
        (1, None),
        (2, None),
        (3, None),
    ]
    stored = await in_stream(env)
    assert texts(stored, -100_720) == [("message", None)]
    assert texts(stored, -100_721) == [("message", "other chat keeps this")]
    assert not any("canary" in (text or "") for *_, text in stored)
