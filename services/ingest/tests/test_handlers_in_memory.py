"""Ingest's handlers on FastStream's in-memory broker (``TestNatsBroker``): no NATS, no
PostgreSQL. The database writes are replaced by recorders; everything else (parsing, dead
letters, metrics, the context the handlers take their dependencies from) is the real thing.
"""

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from faststream.nats import JStream, NatsBroker, TestNatsBroker
from prometheus_client import CollectorRegistry
from sqlalchemy.exc import DataError

from tally.chatstore.write.writer import ChatWriter, WriteResult
from tally.contracts.chat_events import ChatEvent, ChatUser, MessagePosted
from tally.contracts.events import (
    AdminAuditEvent,
    AnswerFeedback,
    QuestionAnswered,
    QuestionAsked,
    SnapshotRecord,
    UserSeen,
    VideoBatch,
    VideoRecord,
)
from tally.contracts.subjects import Subjects
from tally.ingest.activity import answers, handlers
from tally.ingest.activity.store import QuestionNotLoggedYetError
from tally.ingest.app import create_broker_for, create_database_engine
from tally.ingest.chats.handlers import CONSUMER
from tally.ingest.config import IngestSettings
from tally.ingest.videos import handlers as video_handlers
from tally.testing.waiting import until

STAMP = datetime(2025, 11, 3, tzinfo=UTC)
COUNTERS = ("views_count", "likes_count", "comments_count", "reports_count")
SUBJECTS = Subjects("mem")


class RecordingWriter(ChatWriter):
    """A ChatWriter that keeps the events it is given instead of writing them."""

    def __init__(self, settings: IngestSettings) -> None:
        super().__init__(create_database_engine(settings))
        self.written: list[ChatEvent] = []
        self.begun: list[ChatEvent] = []
        self.hold: asyncio.Event | None = None
        """When set, a write does not return (commit) before it is."""

    async def write_isolating(
        self, events: Sequence[ChatEvent]
    ) -> tuple[WriteResult, list[tuple[int, str]]]:
        self.begun.extend(events)
        if self.hold is not None:
            await self.hold.wait()
        self.written.extend(events)
        return WriteResult(events=len(events), messages=len(events)), []


@dataclass
class Ingest:
    """An ingest broker in memory, with what its writes received and its dead letters."""

    broker: NatsBroker
    registry: CollectorRegistry
    chats: RecordingWriter
    dead_letters: Any
    progress: Any
    writes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def count(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


def added(*, rows: Sequence[Any], **_: Any) -> int:
    """What ``insert_questions`` returns when every row is new."""
    return len(rows)


def recorder(ingest: Ingest, name: str, result: Any = None) -> Any:
    """A stand-in for a store function: records its arguments under ``name`` and returns
    ``result`` (raises it when it is an exception; calls it with the keyword arguments when
    it is a function)."""

    async def record(*positional: Any, **arguments: Any) -> Any:
        ingest.writes.setdefault(name, []).append({"args": positional, **arguments})
        if isinstance(result, Exception):
            raise result
        return result(**arguments) if callable(result) else result

    return record


@pytest.fixture
async def ingest() -> AsyncIterator[Ingest]:
    settings = IngestSettings(
        nats_url="nats://in-memory:4222",
        database_url="postgresql://tally@in-memory/tally",
        subject_prefix=SUBJECTS.prefix,
    )
    registry = CollectorRegistry()
    chats = RecordingWriter(settings)
    engine = create_database_engine(settings)
    broker = create_broker_for(settings, engine=engine, registry=registry, writer=chats)

    @broker.subscriber(
        SUBJECTS.dead_letter("ingest"),
        stream=JStream(SUBJECTS.dead_letter_stream, declare=False),
    )
    async def dead_letters(letter: dict[str, Any]) -> None: ...

    @broker.subscriber(SUBJECTS.imports_all)
    async def progress(stored: dict[str, Any]) -> None: ...

    async with TestNatsBroker(broker) as memory:
        yield Ingest(memory, registry, chats, dead_letters, progress)
    await engine.dispose()


def a_video() -> VideoRecord:
    return VideoRecord(
        id=uuid4(),
        creator_id="memory",
        video_created_at=STAMP,
        **dict.fromkeys(COUNTERS, 3),
        created_at=STAMP,
        updated_at=STAMP,
    )


def acked_by_jetstream(*, delivered: int, sequence: int = 1, stream: str = "S") -> str:
    """The reply subject JetStream gives a delivered message (its metadata: stream, consumer,
    deliveries, stream and consumer sequences, timestamp, pending)."""
    return f"$JS.ACK.{stream}.ingest.{delivered}.{sequence}.{sequence}.1700000000000000000.0"


async def test_a_malformed_video_batch_is_dead_lettered_and_not_written(
    ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A VideoBatch that is not valid JSON goes to ingest's dead letters (with its payload)
    and never reaches the database."""
    monkeypatch.setattr(video_handlers, "upsert_videos", recorder(ingest, "videos"))
    await ingest.broker.publish(b'{"import_id": "x", "batch_no": ', SUBJECTS.video_batch)

    letter = ingest.dead_letters.mock.call_args.args[0]
    assert (letter["subject"], letter["payload"]) == (
        SUBJECTS.video_batch,
        '{"import_id": "x", "batch_no": ',
    )
    assert "videos" not in ingest.writes
    assert ingest.count("tally_ingest_dead_letters_total", kind="video_batch") == 1
    ingest.progress.mock.assert_not_called()


async def test_a_valid_video_batch_reaches_the_store_and_is_confirmed(
    ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A valid batch is upserted once, with a repeated video written once (the last copy),
    its datasets' versions are moved, then BatchStored reports its counts on the import's
    progress subject."""
    monkeypatch.setattr(video_handlers, "upsert_videos", recorder(ingest, "videos"))
    monkeypatch.setattr(video_handlers, "move_versions", recorder(ingest, "versions"))
    video, other = a_video(), a_video()
    again = video.model_copy(update={"views_count": 99})
    snapshot = SnapshotRecord(
        id="snap-1",
        video_id=video.id,
        **dict.fromkeys(COUNTERS, 1),
        **{f"delta_{name}": 0 for name in COUNTERS},
        created_at=STAMP,
        updated_at=STAMP,
    )
    batch = VideoBatch(
        import_id="imp1", batch_no=4, videos=(video, other, again), snapshots=(snapshot,)
    )
    await ingest.broker.publish(batch, SUBJECTS.video_batch)

    (written,) = ingest.writes["videos"]
    assert [row["id"] for row in written["videos"]] == [video.id, other.id]
    assert written["videos"][0]["views_count"] == 99
    assert [row["video_id"] for row in written["snapshots"]] == [video.id]
    (moved,) = ingest.writes["versions"]
    assert moved["args"][1:] == (SUBJECTS, batch)
    ingest.progress.mock.assert_called_once_with(
        {"version": 1, "import_id": "imp1", "batch_no": 4, "videos": 2, "snapshots": 1}
    )
    ingest.dead_letters.mock.assert_not_called()
    assert ingest.count("tally_ingest_events_total", kind="video_batch", outcome="stored") == 1


async def test_an_invalid_answer_is_dead_lettered_and_a_valid_one_logged(
    ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An answer missing its question becomes a dead letter on its own subject; a valid
    answer is inserted in the questions log as one row with its question's id."""
    monkeypatch.setattr(answers, "insert_questions", recorder(ingest, "questions", added))
    question = QuestionAsked(channel="cli", chat_id=1, user_id=2, language="en", text="How many?")
    valid = QuestionAnswered(question=question, outcome="answered", value=7)
    bad_subject = SUBJECTS.answer("cli", "broken")

    await ingest.broker.publish({"outcome": "answered"}, bad_subject)
    await ingest.broker.publish(valid, SUBJECTS.answer("cli", str(question.question_id)))

    letter = ingest.dead_letters.mock.call_args.args[0]
    assert letter["subject"] == bad_subject
    assert letter["reason"].startswith("invalid QuestionAnswered")
    rows = [row for call in ingest.writes["questions"] for row in call["rows"]]
    assert [(row["id"], row["value"]) for row in rows] == [(question.question_id, 7.0)]
    assert ingest.count("tally_ingest_events_total", kind="answer", outcome="stored") == 1
    assert ingest.count("tally_ingest_events_total", kind="answer", outcome="dead_letter") == 1


async def test_an_answer_the_database_refuses_is_dead_lettered_alone(
    ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the database refuses a value (SQLSTATE 22: data exception), the answer becomes
    a dead letter of kind ``database`` instead of being retried for ever."""

    class OutOfRange(Exception):
        sqlstate = "22003"

    refused = DataError("INSERT INTO questions", {}, OutOfRange())
    monkeypatch.setattr(answers, "insert_questions", recorder(ingest, "questions", refused))
    question = QuestionAsked(channel="cli", chat_id=1, user_id=2, language="en", text="How many?")
    answer = QuestionAnswered(question=question, outcome="answered", value=1)

    await ingest.broker.publish(answer, SUBJECTS.answer("cli", str(question.question_id)))

    letter = ingest.dead_letters.mock.call_args.args[0]
    assert letter["reason"].startswith("database refused it")
    assert letter["subject"] == SUBJECTS.answer("cli", str(question.question_id))
    assert len(ingest.writes["questions"]) == 2  # the fetch, then the answer alone
    assert ingest.count("tally_ingest_events_total", kind="answer", outcome="stored") == 0
    assert ingest.count("tally_ingest_events_total", kind="answer", outcome="retried") == 0


async def test_a_user_seen_is_upserted_as_a_bot_user_row(
    ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """UserSeen becomes one ``bot_users`` row, first and last seen at its ``seen_at``."""
    monkeypatch.setattr(handlers.store, "upsert_bot_user", recorder(ingest, "users"))
    seen = UserSeen(user_id=42, chat_id=42, username="ann", seen_at=STAMP)

    await ingest.broker.publish(seen, SUBJECTS.user_seen)

    (written,) = ingest.writes["users"]
    assert written["row"]["user_id"] == 42
    assert (written["row"]["first_seen_at"], written["row"]["last_seen_at"]) == (STAMP, STAMP)
    assert ingest.count("tally_ingest_events_total", kind="user_seen", outcome="stored") == 1


async def test_feedback_before_its_answer_is_retried_then_dead_lettered(
    ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Feedback whose question is not logged yet is left for redelivery (not dead-lettered)
    while deliveries remain; at ``max_deliveries`` it is dead-lettered as retries exhausted."""
    missing = QuestionNotLoggedYetError("no question yet")
    monkeypatch.setattr(handlers.store, "record_feedback", recorder(ingest, "feedback", missing))
    feedback = AnswerFeedback(question_id=uuid4(), chat_id=1, user_id=2, verdict="up")

    await ingest.broker.publish(
        feedback, SUBJECTS.feedback, reply_to=acked_by_jetstream(delivered=1)
    )
    ingest.dead_letters.mock.assert_not_called()
    assert ingest.count("tally_ingest_events_total", kind="feedback", outcome="retried") == 1

    await ingest.broker.publish(
        feedback, SUBJECTS.feedback, reply_to=acked_by_jetstream(delivered=20)
    )
    letter = ingest.dead_letters.mock.call_args.args[0]
    assert letter["reason"].startswith("gave up")
    assert len(ingest.writes["feedback"]) == 2


async def test_an_admin_audit_seen_before_counts_as_a_duplicate(
    ingest: Ingest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An AdminAuditEvent whose id is already stored (a redelivery) is a duplicate, not a
    second row."""
    monkeypatch.setattr(handlers.store, "insert_admin_audit", recorder(ingest, "audit", False))
    audit = AdminAuditEvent(user_id=7, chat_id=None, command="alerts", allowed=True)

    await ingest.broker.publish(audit, SUBJECTS.admin_audit)

    (written,) = ingest.writes["audit"]
    assert written["audit"].audit_id == audit.audit_id
    assert ingest.count("tally_ingest_events_total", kind="admin_audit", outcome="duplicate") == 1
    assert ingest.count("tally_ingest_events_total", kind="admin_audit", outcome="stored") == 0


async def test_chat_events_reach_the_writer_and_a_malformed_one_is_dead_lettered(
    ingest: Ingest,
) -> None:
    """A chat event continuing the stream goes to the chat writer; a body that is no chat
    event becomes a dead letter on its subject and is not written."""
    posted = MessagePosted(
        event_id="u1:message",
        chat_id=-1001,
        occurred_at=STAMP,
        message_id=10,
        sender=ChatUser(user_id=5, first_name="Ann"),
    )
    subject = SUBJECTS.chat_event(-1001, "message")
    stream = SUBJECTS.chat_events_stream

    await ingest.broker.publish(
        posted, subject, reply_to=acked_by_jetstream(delivered=1, sequence=1, stream=stream)
    )
    await ingest.broker.publish(
        b"not an event",
        subject,
        reply_to=acked_by_jetstream(delivered=1, sequence=2, stream=stream),
    )

    await ingest.broker.context.get(CONSUMER).pipeline.wait()  # the batch's write is a task
    assert ingest.chats.written == [posted]
    letter = ingest.dead_letters.mock.call_args.args[0]
    assert (letter["subject"], letter["payload"]) == (subject, "not an event")
    assert ingest.count("tally_ingest_events_total", kind="chat_event", outcome="stored") == 1
    assert ingest.count("tally_ingest_events_total", kind="chat_event", outcome="dead_letter") == 1


def a_post(message_id: int) -> MessagePosted:
    return MessagePosted(
        event_id=f"u1:message:{message_id}",
        chat_id=-1001,
        occurred_at=STAMP,
        message_id=message_id,
        sender=ChatUser(user_id=5, first_name="Ann"),
    )


async def test_a_chat_batch_is_written_while_the_next_is_fetched(ingest: Ingest) -> None:
    """The handler returns while its batch's write is still open (so the next fetch is made
    meanwhile); the next batch is not written before that write returns, then both are
    stored in stream order."""
    subject, stream = SUBJECTS.chat_event(-1001, "message"), SUBJECTS.chat_events_stream
    ingest.chats.hold = asyncio.Event()
    first, second = a_post(10), a_post(11)

    await asyncio.wait_for(
        ingest.broker.publish(
            first, subject, reply_to=acked_by_jetstream(delivered=1, stream=stream)
        ),
        timeout=5,
    )  # returned with the write held open (its task may not have reached the write yet)
    await until(lambda: ingest.chats.begun == [first], what="the first batch's write")
    assert ingest.chats.written == []
    next_batch = asyncio.create_task(
        ingest.broker.publish(
            second, subject, reply_to=acked_by_jetstream(delivered=1, sequence=2, stream=stream)
        )
    )
    await asyncio.sleep(0.2)
    assert ingest.chats.begun == [first]  # the second waits for the first to be settled

    ingest.chats.hold.set()
    await asyncio.wait_for(next_batch, timeout=5)
    await ingest.broker.context.get(CONSUMER).pipeline.wait()
    assert ingest.chats.written == [first, second]
    assert ingest.count("tally_ingest_events_total", kind="chat_event", outcome="stored") == 2
