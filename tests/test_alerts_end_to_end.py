"""Alerts end to end: the real alerts service and the real aiogram gateway on real NATS and
PostgreSQL, with the fake Bot API server. Failed answers fire two rules of one group; the
admins get one grouped message with buttons; a stranger's press is refused; an admin's
"Silence 1h" press silences the group in the alerts service; /alerts and /silences show it;
/unsilence lifts it; once the failures leave the window, the resolve notice arrives."""

import random
import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import nats
import pytest

from tally.alerts.app import create_broker_for as alerts_broker
from tally.alerts.config import AlertsSettings
from tally.contracts.events import QuestionAnswered, QuestionAsked
from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import Subjects
from tally.gateway.app import running_gateway
from tally.gateway.config import GatewaySettings
from tally.gateway.telegram.admins import REFUSAL
from tally.infra.db.session import asyncpg_dsn, create_engine
from tally.infra.settings import CommonSettings
from tally.testing.telegram import DEFAULT_TOKEN, FakeTelegram, SentMessage
from tests.factories.chat_rows import ChatRows, remove_chats

ADMIN = 5151
STRANGER = 5252
ADMIN_CHAT = -5001
RULES = """
evaluation_interval: 100ms
route: {group_by: [component], group_wait: 300ms, group_interval: 500ms, repeat_interval: 1h}
rules:
  - name: FailureShare{tag}
    source: {metric: question_failure_ratio, reduce: avg, window: 3s, min_samples: 3}
    condition: {op: ">=", threshold: 0.5}
    severity: critical
    labels: {component: questions{tag}}
    summary: "{value} of questions failed"
  - name: AnyFailure{tag}
    source: {metric: question_failure_ratio, reduce: max, window: 3s}
    condition: {op: ">=", threshold: 1}
    severity: critical
    labels: {component: questions{tag}}
    summary: "a question failed"
"""


@pytest.fixture
async def stack(
    settings: CommonSettings, tmp_path: Path
) -> AsyncIterator[tuple[FakeTelegram, Subjects, str]]:
    """Alerts (with the rules above, under a fresh tag) and the gateway on a subject prefix of
    their own; yields the fake Bot API, the subjects and the tag."""
    tag = uuid4().hex[:6]
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES.replace("{tag}", tag))
    base = {**settings.model_dump(), "subject_prefix": f"a{uuid4().hex[:10]}"}
    subjects = Subjects(base["subject_prefix"])
    client = await nats.connect(settings.nats_url)
    await ensure_streams(client.jetstream(), subjects)
    async with AsyncExitStack() as services, FakeTelegram() as fake:
        broker, service = alerts_broker(AlertsSettings(**base, alert_rules_file=rules))
        await broker.start()
        services.push_async_callback(broker.stop)
        await service.start()
        services.push_async_callback(service.stop)
        gateway = GatewaySettings(
            **base,
            bot_token=DEFAULT_TOKEN,
            telegram_api_base=fake.base_url,
            admin_chat_ids=[ADMIN_CHAT],
            admin_user_ids=[ADMIN],
            throttle_interval_s=0.0,
        )
        await services.enter_async_context(running_gateway(gateway))
        yield fake, subjects, tag
    await delete_streams(client.jetstream(), subjects)
    await client.close()


async def _fail_questions(settings: CommonSettings, subjects: Subjects, count: int) -> None:
    client = await nats.connect(settings.nats_url)
    for n in range(count):
        question = QuestionAsked(channel="cli", chat_id=n, user_id=n, language="en", text="q")
        answer = QuestionAnswered(question=question, outcome="failed", reason="db down")
        await client.publish(
            subjects.answer("cli", str(question.question_id)), answer.model_dump_json().encode()
        )
    await client.flush()
    await client.close()


def _callbacks(sent: SentMessage) -> dict[str, str]:
    rows: list[list[dict[str, Any]]] = (sent.reply_markup or {})["inline_keyboard"]
    return {button["text"]: button["callback_data"] for row in rows for button in row}


async def _reply(telegram: FakeTelegram, text: str) -> str:
    telegram.push_message(ADMIN, ADMIN, text)
    [sent] = await telegram.wait_sent(chat_id=ADMIN, timeout=10)
    return sent.text


async def test_fire_group_silence_by_button_and_resolve(
    stack: tuple[FakeTelegram, Subjects, str], settings: CommonSettings
) -> None:
    """One message for the two alerts of one group, buttons on it; Silence 1h by button is a
    silence in the alerts service (and in its history, by the admin); the resolve notice
    comes without buttons after /unsilence."""
    telegram, subjects, tag = stack
    await _fail_questions(settings, subjects, 3)

    [fired] = await telegram.wait_sent(chat_id=ADMIN_CHAT, timeout=10)
    assert "FIRING" in fired.text and f"questions{tag}" in fired.text
    assert f"FailureShare{tag}" in fired.text and f"AnyFailure{tag}" in fired.text
    callbacks = _callbacks(fired)
    assert {"Acknowledge", "Silence 1h", "Silence 24h", "Mute until resolved"} <= set(callbacks)

    refused = await telegram.wait_press(
        telegram.push_callback(ADMIN_CHAT, STRANGER, callbacks["Silence 1h"])
    )
    assert (refused.notice, refused.alert) == (REFUSAL, True)

    pressed = await telegram.wait_press(
        telegram.push_callback(ADMIN_CHAT, ADMIN, callbacks["Silence 1h"]), timeout=10
    )
    assert pressed.notice and pressed.notice.startswith("Silenced 2 alerts for 1 h")
    silence_id = re.search(r"silence ([0-9a-f]{4})", pressed.notice)
    assert silence_id is not None

    listed = await _reply(telegram, "/alerts")
    assert f"FailureShare{tag}" in listed and f"AnyFailure{tag}" in listed
    silences = await _reply(telegram, "/silences")
    [full_id] = re.findall(rf"\b({silence_id.group(1)}[0-9a-f]{{12}})\b", silences)
    database = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    try:
        actors = await database.fetch(
            "SELECT DISTINCT actor_id FROM alert_history WHERE event = 'silenced'"
            " AND labels->>'component' = $1",
            f"questions{tag}",
        )
    finally:
        await database.close()
    assert [row["actor_id"] for row in actors] == [ADMIN]

    await telegram.assert_nothing_sent(within=0.5, chat_id=ADMIN_CHAT)
    unsilenced = await _reply(telegram, f"/unsilence {full_id}")
    assert unsilenced == f"Silence {full_id[:4]}… ended."

    [resolved] = await telegram.wait_sent(chat_id=ADMIN_CHAT, timeout=15)
    assert "RESOLVED" in resolved.text and f"questions{tag}" in resolved.text
    assert resolved.reply_markup is None


async def test_watch_in_a_group_is_backtested_and_enabled(
    stack: tuple[FakeTelegram, Subjects, str], settings: CommonSettings
) -> None:
    """An admin's /watch in a group compiles through the language engine to a rule on that
    chat's messages; the reply gives the backtest over the stored history (four messages in
    one hour three days ago exceed 3 per hour: once); the watch is stored as enabled."""
    telegram, _, _ = stack
    group = -1_000_000_000_000 - random.randrange(10**9)
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=3)
    engine = create_engine(settings.database_url)
    async with engine.begin() as connection:
        chat = ChatRows(connection, group)
        await chat.create(title="watched", first_seen_at=hour - timedelta(days=1))
        for n in range(4):
            await chat.message(n + 1, 700 + n, hour + timedelta(minutes=10 * n + 5))
    try:
        telegram.push_group_message(group, ADMIN, "/watch messages in this chat exceed 3 per hour")
        [reply] = await telegram.wait_sent(chat_id=group, timeout=15)
        assert "This would have fired once in the last 30 days" in reply.text, reply.text
        database = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
        try:
            watches = await database.fetch(
                "SELECT created_by, enabled FROM alert_watches WHERE chat_id = $1", group
            )
            await database.execute("DELETE FROM alert_watches WHERE chat_id = $1", group)
        finally:
            await database.close()
        assert [(row["created_by"], row["enabled"]) for row in watches] == [(ADMIN, True)]
    finally:
        await remove_chats(engine, [group], [700, 701, 702, 703], chat.partitions)
        await engine.dispose()
