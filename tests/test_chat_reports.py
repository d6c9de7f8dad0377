"""Group reports end to end: /stats, /top (by messages and by words) and /me in a group,
through the real gateway (fake Bot API), the real executor and chat_stats over PostgreSQL,
checked against SQL written here; /content and /replies of a conversation sent through the
fake Bot API and stored by ingest, checked against that conversation."""

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import nats
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tally.contracts.chat_events import ChatSettings
from tally.contracts.chat_reports import ChatReportRequested
from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import Subjects
from tally.executor.app import create_broker_for as executor_broker
from tally.executor.config import ExecutorSettings
from tally.executor.reports import answer_report
from tally.executor.runner import Reader
from tally.gateway.app import running_gateway
from tally.gateway.config import GatewaySettings
from tally.infra.db.session import create_engine
from tally.infra.settings import CommonSettings, to_asyncpg_url
from tally.ingest.app import create_broker_for as ingest_broker
from tally.ingest.app import create_database_engine
from tally.ingest.config import IngestSettings
from tally.testing.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.factories.chat_rows import ChatRows, remove_chats, upsert_user

CHAT = -100_500_001
ZONE = "America/New_York"
USERS = {92_001: "rita", 92_002: "sam", 92_003: None}
NOW = datetime.now(UTC)
AGES_H = [1, 5, 30, 30.5, 50, 80, 200, 24 * 40]
"""Message ages in hours, by user in turn: the last is outside a 30-day report."""
WORDS = [2, 9, 4, 1, 7, 3, 5, 8]
"""Words of each message (so a top by words differs from one by messages)."""
TALK = -100_500_031
"""A group (UTC, text not stored) whose conversation goes through the fake Bot API."""
ANN, BOB, CAT = 93_001, 93_002, 93_003
CONVERSATION: list[tuple[int, str | None, dict[str, Any]]] = [
    (ANN, "release notes #release", {"entities": [{"type": "hashtag", "offset": 14, "length": 8}]}),
    (
        BOB,
        "thanks @ann",
        {"reply_to": 1, "entities": [{"type": "mention", "offset": 7, "length": 4}]},
    ),
    (CAT, None, {"reply_to": 1, "content_type": "photo"}),
    (
        ANN,
        "see https://x.io",
        {"reply_to": 2, "entities": [{"type": "url", "offset": 4, "length": 12}]},
    ),
    (BOB, "look at this", {"forwarded": True}),
    (BOB, None, {"reply_to": 4, "content_type": "sticker"}),
]
"""Who sends what, in order (message ids 1..6): (user, text, push_group_message's fields)."""


@pytest.fixture(scope="module")
async def chat(settings: CommonSettings) -> AsyncIterator[None]:
    """One New York group with messages over the last weeks (rows and rollups as ingest
    keeps them); removed afterwards."""
    engine = create_async_engine(to_asyncpg_url(settings.database_url))
    async with engine.begin() as connection:
        rows = ChatRows(connection, CHAT, ZONE)
        await rows.create(title="Report group", first_seen_at=NOW - timedelta(days=60))
        for user_id, username in USERS.items():
            await upsert_user(connection, user_id, username=username, first_name="N", seen_at=NOW)
        users = list(USERS)
        for message_id, (age, words) in enumerate(zip(AGES_H, WORDS, strict=True), start=1):
            at = NOW - timedelta(hours=age)
            await rows.message(message_id, users[message_id % 3], at, words=words)
    yield
    await remove_chats(engine, [CHAT], list(USERS), rows.partitions)
    await engine.dispose()


@pytest.fixture(scope="module")
async def own(settings: CommonSettings) -> AsyncIterator[CommonSettings]:
    """This run's servers on a subject prefix of this module's own, with its streams: the
    chat events the gateway captures here (the commands are messages too) reach no ingest
    but the one this module runs, however the session's tests are ordered."""
    prefixed = settings.model_copy(update={"subject_prefix": f"r{uuid4().hex[:10]}"})
    client = await nats.connect(settings.nats_url)
    js = client.jetstream()
    await ensure_streams(js, Subjects(prefixed.subject_prefix))
    yield prefixed
    await delete_streams(js, Subjects(prefixed.subject_prefix))
    await client.close()


@pytest.fixture(scope="module")
async def telegram(
    own: CommonSettings, spans: InMemorySpanExporter, chat: None
) -> AsyncIterator[FakeTelegram]:
    """The executor and the gateway in this process; the chat's zone in the settings bucket."""
    settings = own
    base = settings.model_dump()
    async with AsyncExitStack() as services, FakeTelegram() as fake:
        reader = Reader(ExecutorSettings(**base))
        services.push_async_callback(reader.close)
        executor = executor_broker(ExecutorSettings(**base), reader)
        await executor.start()
        services.push_async_callback(executor.stop)
        gateway = GatewaySettings(
            **base,
            bot_token=DEFAULT_TOKEN,
            telegram_api_base=fake.base_url,
            group_throttle_interval_s=0,  # one member asks for several reports in a row
        )
        running = await services.enter_async_context(running_gateway(gateway))
        client = await nats.connect(settings.nats_url)
        name = Subjects(settings.subject_prefix).chat_settings_bucket
        bucket = await client.jetstream().key_value(name)
        await bucket.put(str(CHAT), ChatSettings(timezone=ZONE).model_dump_json().encode())
        await client.close()
        for _ in range(250):
            if running.context.chat_settings.get(CHAT).timezone == ZONE:
                break
            await asyncio.sleep(0.02)
        yield fake


_RECENT = (
    "FROM messages WHERE chat_id = :chat AND (sent_at AT TIME ZONE :zone)::date BETWEEN"
    " (now() AT TIME ZONE :zone)::date - (:days - 1) AND (now() AT TIME ZONE :zone)::date"
)
"""CHAT's messages of the last ``:days`` New York calendar days."""


async def _messages_since(settings: CommonSettings, days: int) -> int:
    """Reference: messages of CHAT on the last ``days`` New York calendar days."""
    engine = create_async_engine(to_asyncpg_url(settings.database_url))
    async with engine.connect() as connection:
        count = await connection.scalar(
            text(f"SELECT count(*) {_RECENT}"), {"chat": CHAT, "zone": ZONE, "days": days}
        )
    await engine.dispose()
    return int(count or 0)


async def _by_user(settings: CommonSettings, days: int) -> dict[int, tuple[int, int]]:
    """Reference: (messages, words) of each member of CHAT on the last ``days`` New York
    calendar days."""
    engine = create_async_engine(to_asyncpg_url(settings.database_url))
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(f"SELECT user_id, count(*), sum(word_count) {_RECENT} GROUP BY user_id"),
            {"chat": CHAT, "zone": ZONE, "days": days},
        )
    await engine.dispose()
    return {int(user): (int(messages), int(words)) for user, messages, words in rows}


async def test_stats_in_a_group_counts_this_chat_on_its_calendar(
    telegram: FakeTelegram, settings: CommonSettings
) -> None:
    """/stats 30: a chart whose caption counts this chat's messages of the last 30 New York
    days (the 40-day-old one left out)."""
    telegram.push_group_message(CHAT, 92_001, "/stats 30")
    [card] = await telegram.wait_sent(count=1, timeout=15, chat_id=CHAT)
    expected = await _messages_since(settings, 30)
    assert expected == len(AGES_H) - 1
    assert card.photo is not None and card.photo.startswith(b"\x89PNG")
    assert f"Messages: {expected}" in card.text
    assert "Report group" in card.text and f"({ZONE})" in card.text


async def test_top_lists_the_most_active_by_username(telegram: FakeTelegram) -> None:
    """/top 30d ranks the members by messages in the last 30 days: each user's count, by
    @username (a member without one by name). ("/top 30" is a top 30 of the default week.)"""
    telegram.push_group_message(CHAT, 92_002, "/top 30d")
    [top] = await telegram.wait_sent(count=1, timeout=15, chat_id=CHAT)
    recent = [i for i, age in enumerate(AGES_H, start=1) if age < 24 * 29]
    counts = {user: sum(1 for i in recent if list(USERS)[i % 3] == user) for user in USERS}
    leader = max(counts, key=lambda user: (counts[user], -user))
    assert f"1. @{USERS[leader]} — {counts[leader]}" in top.text


async def test_me_shows_the_askers_own_figures(
    telegram: FakeTelegram, settings: CommonSettings
) -> None:
    """/me 30 from rita: her messages and words of the last 30 New York days, new against
    the 30 days before (she wrote nothing then), under her @username."""
    telegram.push_group_message(CHAT, 92_001, "/me 30")
    [card] = await telegram.wait_sent(count=1, timeout=15, chat_id=CHAT)
    messages, words = (await _by_user(settings, 30))[92_001]
    assert messages > 0
    assert card.text.startswith("👤 <b>@rita</b>, ") and f"({ZONE})" in card.text
    assert f"Messages: {messages} (new)" in card.text
    assert f"Words: {words} (new)" in card.text


async def test_top_by_words_ranks_by_words_written(
    telegram: FakeTelegram, settings: CommonSettings
) -> None:
    """/top 3 by words: the members by words written in the last 7 New York days, each with
    their words (the order differs from a top by messages)."""
    telegram.push_group_message(CHAT, 92_003, "/top 3 by words")
    [top] = await telegram.wait_sent(count=1, timeout=15, chat_id=CHAT)
    figures = await _by_user(settings, 7)
    ranked = sorted(figures, key=lambda user: (-figures[user][1], user))
    assert ranked != sorted(figures, key=lambda user: (-figures[user][0], user))
    labels = {user: f"@{name}" if name else "N" for user, name in USERS.items()}
    rows = [f"{n}. {labels[user]} — {figures[user][1]}" for n, user in enumerate(ranked, 1)]
    assert "Top by words" in top.text
    assert top.text.endswith("\n".join(rows[:3]))


async def test_a_report_of_an_unknown_zone_is_read_in_utc(
    settings: CommonSettings, chat: None
) -> None:
    """A request naming no real zone is answered on the UTC calendar, not refused."""
    reader = Reader(ExecutorSettings(**settings.model_dump()))
    try:
        request = ChatReportRequested(chat_id=CHAT, kind="heatmap", days=60, timezone="Mars/Base")
        report = await answer_report(request, reader)
    finally:
        await reader.close()
    assert report.error is None and report.timezone == "UTC"
    assert sum(map(sum, report.heatmap)) == len(AGES_H)


def _entities(kind: str) -> int:
    return sum(
        1 for _, _, fields in CONVERSATION for e in fields.get("entities", []) if e["type"] == kind
    )


@pytest.fixture(scope="module")
async def talk(telegram: FakeTelegram, own: CommonSettings) -> AsyncIterator[None]:
    """CONVERSATION sent in TALK through the fake Bot API, captured by the gateway and stored
    by an ingest run until all of it is in; ingest is stopped before the commands, so their
    own messages (captured too) are not counted in the reports. Removed afterwards."""
    settings = own
    base = IngestSettings(**settings.model_dump())
    write_engine = create_database_engine(base)
    ingest = ingest_broker(base, engine=write_engine)
    await ingest.start()
    for message_id, (user, words, fields) in enumerate(CONVERSATION, start=1):
        telegram.push_group_message(TALK, user, words, message_id=message_id, **fields)
    engine = create_engine(settings.database_url)
    deadline = time.monotonic() + 20
    try:
        while await _stored(engine) < len(CONVERSATION):
            assert time.monotonic() < deadline, "the conversation was not stored in time"
            await asyncio.sleep(0.1)
    finally:
        await ingest.stop()
        await write_engine.dispose()
    yield
    await remove_chats(engine, [TALK], [ANN, BOB, CAT], [])
    await engine.dispose()


async def _stored(engine: Any) -> int:
    async with engine.connect() as connection:
        found = await connection.scalar(
            text("SELECT count(*) FROM messages WHERE chat_id = :c"), {"c": TALK}
        )
    return int(found or 0)


async def test_content_counts_the_conversation(telegram: FakeTelegram, talk: None) -> None:
    """/content: the conversation's messages by type, its links, mentions, hashtags,
    forwards and replies; hashtags only counted (the chat does not store text)."""
    telegram.push_group_message(TALK, ANN, "/content")
    [card] = await telegram.wait_sent(count=1, timeout=15, chat_id=TALK)

    types = Counter(fields.get("content_type", "text") for _, _, fields in CONVERSATION)
    replies = sum(1 for _, _, fields in CONVERSATION if "reply_to" in fields)
    forwards = sum(1 for _, _, fields in CONVERSATION if fields.get("forwarded"))
    assert f"Messages: {len(CONVERSATION)}" in card.text
    assert all(f"{kind} {n}" in card.text for kind, n in types.items())
    assert (
        f"Links: {_entities('url')} · Mentions: {_entities('mention')}"
        f" · Hashtags: {_entities('hashtag')}"
    ) in card.text
    assert f"Forwards: {forwards} · Replies: {replies}" in card.text
    assert "Hashtags are counted, not named" in card.text
    assert "(UTC)" in card.text


async def test_replies_names_who_replies_to_whom(telegram: FakeTelegram, talk: None) -> None:
    """/replies: the conversation's replies and their share of its messages, and its busiest
    pair (replier -> replied-to, by their names) first."""
    telegram.push_group_message(TALK, BOB, "/replies")
    [card] = await telegram.wait_sent(count=1, timeout=15, chat_id=TALK)

    authors = {i: user for i, (user, _, _) in enumerate(CONVERSATION, start=1)}
    pairs = Counter(
        (user, authors[fields["reply_to"]])
        for user, _, fields in CONVERSATION
        if "reply_to" in fields
    )
    replies = pairs.total()
    share = round(replies * 100 / len(CONVERSATION))
    assert f"Replies: {replies} of {len(CONVERSATION)} messages ({share}%)" in card.text
    [((replier, replied_to), most)] = pairs.most_common(1)
    assert f"1. User{replier} → User{replied_to} — {most}" in card.text
    assert "Median reply time:" in card.text
