"""Poison messages on every subject a service consumes: each ends in the dead-letter stream
with a reason, and every service answers good messages afterwards.

nl2sql, executor, ingest and alerts run as child processes on a database and subject prefix
of their own. On ``questions.asked`` (nl2sql), ``plans.ready`` and ``sql.proposed``
(executor), ``answers.*`` (ingest; alerts reads them too), ``users.seen``,
``users.feedback``, ``videos.batch`` and ``chats.<chat>.<kind>`` (ingest), the test publishes
malformed JSON, a wrong schema ``version``, a body within 2 KiB of NATS's default
``max_payload`` (1 MiB) whose id is some 261,000 4-byte emoji, 900 KB of a control
character, a lone surrogate escaped in
JSON, and ids with a 4-byte emoji, a right-to-left mark or a NUL. Each carries a
``Poison-Id`` header, which its dead letter keeps.

The gateway's consumers (``answers.telegram.*``, ``alerts.*``) are not covered here: it
needs the fake Bot API (see tests/test_failures.py).
"""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import asyncpg
import nats
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from tally.cli.client import Asker
from tally.contracts.alerting import AlertCommand, AlertCommandReply
from tally.contracts.chat_events import ChatUser, MessagePosted
from tally.contracts.events import (
    AnswerFeedback,
    DeadLetter,
    Event,
    QueryPlanned,
    QuestionAnswered,
    QuestionAsked,
    SqlProposed,
    UserSeen,
    VideoBatch,
)
from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import (
    ANSWERS_DURABLE,
    CHATS_DURABLE,
    FEEDBACK_DURABLE,
    USERS_DURABLE,
    VIDEOS_DURABLE,
    Subjects,
)
from tally.infra.db.session import asyncpg_dsn
from tally.infra.settings import CommonSettings
from tally.nl2sql.planning import plan_question
from tests.chaos._stack import Service, own_database, until

pytestmark = pytest.mark.timeout(120)

NATS_MAX_PAYLOAD = 1024 * 1024
QUESTION = "How many videos are in the system?"
Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Target:
    """A consumed subject, a valid event for it, where its id and (if any) free text are,
    whether it is published to JetStream, and the service that should dead-letter it."""

    name: str
    subject: str
    event: Event
    id_path: Path
    text_path: Path | None
    jetstream: bool
    service: str


def _question(text: str = QUESTION) -> QuestionAsked:
    return QuestionAsked(channel="cli", chat_id=0, user_id=0, language="en", text=text)


def _targets(subjects: Subjects) -> list[Target]:
    question = _question()
    planned = plan_question(question)
    assert isinstance(planned, QueryPlanned)
    now = datetime.now(UTC)
    chat = -100_777
    message = MessagePosted(
        event_id="u1:message",
        chat_id=chat,
        occurred_at=now,
        message_id=1,
        sender=ChatUser(user_id=5, username="bob"),
    )
    answer = QuestionAnswered(question=question, outcome="refused", reason="no")
    qid = ("question", "question_id")
    text = ("question", "text")
    return [
        Target(
            "question",
            subjects.question_asked,
            question,
            ("question_id",),
            ("text",),
            False,
            "nl2sql",
        ),
        Target("plan", subjects.plan_ready, planned, qid, text, False, "executor"),
        Target(
            "sql",
            subjects.sql_proposed,
            SqlProposed(question=question, sql="SELECT 1", planned_ms=1),
            qid,
            text,
            False,
            "executor",
        ),
        Target("answer", subjects.answer("cli", str(uuid4())), answer, qid, text, True, "ingest"),
        Target(
            "user_seen",
            subjects.user_seen,
            UserSeen(user_id=1, chat_id=1, username="alice"),
            ("user_id",),
            ("username",),
            True,
            "ingest",
        ),
        Target(
            "feedback",
            subjects.feedback,
            AnswerFeedback(question_id=uuid4(), chat_id=1, user_id=1, verdict="up"),
            ("question_id",),
            None,
            True,
            "ingest",
        ),
        Target(
            "videos",
            subjects.video_batch,
            VideoBatch(import_id="poison", batch_no=1),
            ("batch_no",),
            ("import_id",),
            True,
            "ingest",
        ),
        Target(
            "chat",
            subjects.chat_event(chat, "message"),
            message,
            ("message_id",),
            ("sender", "username"),
            True,
            "ingest",
        ),
    ]


def _with(document: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    """A deep copy of ``document`` with ``value`` at ``path``."""
    copied: dict[str, Any] = json.loads(json.dumps(document))
    node: Any = copied
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return copied


def _original(document: dict[str, Any], path: Path) -> Any:
    node: Any = document
    for key in path:
        node = node[key]
    return node


def _poisons(target: Target) -> dict[str, bytes]:
    """Poison bodies for ``target``, by kind. JSON is written with ASCII escapes, so a lone
    surrogate travels as ``\\ud800``."""
    document = target.event.model_dump(mode="json")
    original = str(_original(document, target.id_path))
    text_path = target.text_path or target.id_path

    def body(path: Path, value: Any) -> bytes:
        return json.dumps(_with(document, path, value)).encode()

    room = NATS_MAX_PAYLOAD - 2048 - len(body(target.id_path, ""))  # 2 KiB left for headers
    huge = _with(document, target.id_path, "😀" * (room // 4))  # 4 bytes each in UTF-8
    return {
        "malformed": b'{"version": 1, "question": {"text": "unterminated',
        "version": json.dumps({**document, "version": 2}).encode(),
        "oversize": json.dumps(huge, ensure_ascii=False).encode(),
        # 900 KB of a control character: 6 bytes each once escaped in a dead letter's JSON
        "control_bytes": b"\x01" * 900_000,
        "surrogate": body(text_path, "lone \ud800 surrogate"),
        "emoji_id": body(target.id_path, "🦄" + original),
        "rtl_id": body(target.id_path, "\u202e" + original),
        "nul_id": body(target.id_path, original + "\u0000"),
    }


@pytest.fixture
async def stack(server_database_url: str, nats_url: str) -> AsyncIterator[CommonSettings]:
    """A migrated database and a subject prefix of this test's own; the four services."""
    name = f"tally_poison_{uuid4().hex[:8]}"
    async with own_database(server_database_url, name) as database_url:
        settings = CommonSettings(
            nats_url=nats_url, database_url=database_url, subject_prefix=f"p{uuid4().hex[:10]}"
        )
        subjects = Subjects(settings.subject_prefix)
        client = await nats.connect(nats_url)
        await ensure_streams(client.jetstream(), subjects)
        environment = {
            "NATS_URL": nats_url,
            "DATABASE_URL": database_url,
            "SUBJECT_PREFIX": settings.subject_prefix,
            "RETRY_DELAY_S": "0.5",
            "MAX_DELIVERIES": "5",
        }
        names = ("nl2sql", "executor", "ingest", "alerts")
        services = [Service(name, environment) for name in names]
        try:
            for service in services:
                await service.start()
            for service in services:
                await service.wait_ready()
            yield settings
            for service in services:
                assert await service.ready() == 204, f"{service.name} not ready after the poison"
        finally:
            for service in services:
                await service.stop()
            await delete_streams(client.jetstream(), subjects)
            await client.close()


async def _publish(client: Client, target: Target, body: bytes, poison_id: str) -> None:
    headers = {"Poison-Id": poison_id}
    if target.jetstream:
        headers["Nats-Msg-Id"] = poison_id
        await client.jetstream().publish(target.subject, body, headers=headers)
    else:
        await client.publish(target.subject, body, headers=headers)


async def _dead_letters(js: JetStreamContext, stream: str) -> dict[str, DeadLetter]:
    """Every dead letter in ``stream`` by its ``Poison-Id`` header (letters without one are
    keyed by their stream sequence)."""
    try:
        state = (await js.stream_info(stream)).state
    except NotFoundError:
        return {}
    letters: dict[str, DeadLetter] = {}
    for sequence in range(state.first_seq, state.last_seq + 1):
        stored = await js.get_msg(stream, sequence)
        letter = DeadLetter.model_validate_json(stored.data or b"")
        letters[letter.headers.get("Poison-Id", f"#{sequence}")] = letter
    return letters


async def test_every_poison_message_is_dead_lettered_and_services_go_on(
    stack: CommonSettings,
) -> None:
    """64 poison messages on 8 subjects: 64 dead letters, each from the consuming service,
    with the original subject and a reason; then every service handles good messages."""
    settings = stack
    subjects = Subjects(settings.subject_prefix)
    client = await nats.connect(settings.nats_url)
    js = client.jetstream()
    published: dict[str, tuple[Target, str, int]] = {}
    for target in _targets(subjects):
        for kind, body in _poisons(target).items():
            assert len(body) < NATS_MAX_PAYLOAD
            poison_id = f"{target.name}-{kind}-{uuid4().hex[:6]}"
            await _publish(client, target, body, poison_id)
            published[poison_id] = (target, kind, len(body))

    letters: dict[str, DeadLetter] = {}

    async def all_dead_lettered() -> bool:
        letters.update(await _dead_letters(js, subjects.dead_letter_stream))
        return set(published) <= set(letters)

    try:
        await until(all_dead_lettered, timeout_s=30, what="a dead letter for every poison")
    except AssertionError as error:
        missing = sorted(set(published) - set(letters))
        raise AssertionError(f"not dead-lettered: {missing}") from error
    for poison_id, (target, kind, size) in published.items():
        letter = letters[poison_id]
        assert letter.service == target.service, poison_id
        assert letter.subject == target.subject, poison_id
        assert letter.reason, poison_id
        if kind == "version":
            assert "version" in letter.reason, (poison_id, letter.reason)
        if kind in {"oversize", "control_bytes"}:
            assert 0 < len(letter.payload.encode()) < size, poison_id
    await _odd_text_questions(settings, js)
    await _good_messages_still_served(settings, client)
    await _consumers_settled(js, subjects)
    await client.close()


async def _odd_text_questions(settings: CommonSettings, js: JetStreamContext) -> None:
    """Questions whose text holds a NUL or right-to-left marks are valid events: both are
    answered. PostgreSQL cannot store a NUL in text, so ingest dead-letters that answer
    instead of logging it (and goes on); the other is logged."""
    subjects = Subjects(settings.subject_prefix)
    async with Asker(settings, timeout_s=10) as asker:
        nul = await asker.ask("How many\u0000 videos are in the system?")
        rtl = await asker.ask("\u200fHow many videos are in the system?\u200f")
    for asked in (nul, rtl):
        assert asked.answer.outcome in {"answered", "refused"}, asked.answer
    nul_subject = subjects.answer("cli", str(nul.answer.question.question_id))

    async def nul_dead_lettered() -> bool:
        letters = await _dead_letters(js, subjects.dead_letter_stream)
        return any(
            letter.subject == nul_subject and letter.reason.startswith("database refused it")
            for letter in letters.values()
        )

    await until(nul_dead_lettered, timeout_s=15, what="the NUL answer dead-lettered by ingest")
    database = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    try:
        rtl_id = rtl.answer.question.question_id

        async def rtl_logged() -> bool:
            found = await database.fetchval("SELECT text FROM questions WHERE id = $1", rtl_id)
            return bool(found == rtl.answer.question.text)

        await until(rtl_logged, timeout_s=15, what="the right-to-left question logged")
    finally:
        await database.close()


async def _good_messages_still_served(settings: CommonSettings, client: Client) -> None:
    """A question is answered (nl2sql, executor) and logged (ingest), a chat message and a
    user are stored (ingest), the alerts service answers a command."""
    subjects = Subjects(settings.subject_prefix)
    async with Asker(settings, timeout_s=10) as asker:
        asked = await asker.ask(QUESTION)
    assert asked.answer.outcome == "answered" and asked.answer.value == 0
    good = MessagePosted(
        event_id="u2:message", chat_id=-100_778, occurred_at=datetime.now(UTC), message_id=2
    )
    await client.jetstream().publish(
        subjects.chat_event(good.chat_id, good.kind),
        good.model_dump_json().encode(),
        headers={"Nats-Msg-Id": good.event_id},
    )
    await client.jetstream().publish(
        subjects.user_seen, UserSeen(user_id=42, chat_id=42).model_dump_json().encode()
    )
    database = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    try:
        question_id = asked.answer.question.question_id

        async def stored() -> bool:
            counts = await database.fetchrow(
                "SELECT (SELECT count(*) FROM questions WHERE id = $1) AS questions,"
                " (SELECT count(*) FROM messages WHERE chat_id = $2) AS messages,"
                " (SELECT count(*) FROM bot_users WHERE user_id = 42) AS users",
                question_id,
                good.chat_id,
            )
            return tuple(counts or ()) == (1, 1, 1)

        await until(stored, timeout_s=15, what="the good question, message and user stored")
    finally:
        await database.close()
    command = AlertCommand(action="alerts", actor_id=1)
    reply = await client.request(subjects.alert_command, command.model_dump_json().encode(), 5)
    AlertCommandReply.model_validate_json(reply.data)


async def _consumers_settled(js: JetStreamContext, subjects: Subjects) -> None:
    """No ingest consumer holds a message unacknowledged or waiting: none loops on poison."""
    durables = {
        subjects.video_stats_stream: [VIDEOS_DURABLE],
        subjects.activity_stream: [ANSWERS_DURABLE, USERS_DURABLE, FEEDBACK_DURABLE],
        subjects.chat_events_stream: [CHATS_DURABLE],
    }

    async def settled() -> bool:
        for stream, names in durables.items():
            for name in names:
                info = await js.consumer_info(stream, name)
                if info.num_pending or info.num_ack_pending:
                    return False
        return True

    await until(settled, timeout_s=15, what="every ingest consumer settled")
