"""Ingest's consumers on real NATS and PostgreSQL: dead letters, the questions log, bot users,
feedback, the admin audit."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from nats.aio.client import Client
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.contracts.events import (
    AdminAuditEvent,
    AnswerFeedback,
    BatchStored,
    DeadLetter,
    QuestionAnswered,
    QuestionAsked,
    SnapshotRecord,
    UserSeen,
    VideoBatch,
    VideoRecord,
)
from tally.contracts.subjects import Subjects

Eventually = Callable[..., Awaitable[None]]
COUNTERS = ("views_count", "likes_count", "comments_count", "reports_count")

pytestmark = pytest.mark.usefixtures("ingest")


def a_video() -> VideoRecord:
    stamp = datetime(2025, 11, 1, tzinfo=UTC)
    return VideoRecord(
        id=uuid4(),
        creator_id="abc123",
        video_created_at=stamp,
        views_count=10,
        likes_count=1,
        comments_count=0,
        reports_count=0,
        created_at=stamp,
        updated_at=stamp,
    )


@pytest.mark.usefixtures("clean_videos")
async def test_invalid_batch_is_dead_lettered_and_the_next_is_stored(
    nc: Client, subjects: Subjects
) -> None:
    """A VideoBatch that fails validation lands on the DLQ; the consumer goes on with the next."""
    js = nc.jetstream()
    dead = await nc.subscribe(subjects.dead_letter("ingest"))
    import_id = uuid4().hex
    stored = await nc.subscribe(subjects.import_progress(import_id))
    bad = b'{"import_id": "x", "batch_no": "first", "videos": []}'
    good = VideoBatch(import_id=import_id, batch_no=1, videos=(a_video(),))

    await js.publish(subjects.video_batch, bad, stream=subjects.video_stats_stream)
    await js.publish(subjects.video_batch, good.model_dump_json().encode())

    letter = DeadLetter.model_validate_json((await dead.next_msg(timeout=15)).data)
    assert (letter.service, letter.subject, letter.payload) == (
        "ingest",
        subjects.video_batch,
        bad.decode(),
    )
    assert "batch_no" in letter.reason
    confirmation = BatchStored.model_validate_json((await stored.next_msg(timeout=15)).data)
    assert (confirmation.batch_no, confirmation.videos) == (1, 1)


async def test_an_answer_becomes_a_questions_row(
    nc: Client, subjects: Subjects, db: AsyncEngine, eventually: Eventually
) -> None:
    """A QuestionAnswered on the CLI's answer subject is logged once in `questions`."""
    question = QuestionAsked(
        channel="cli", chat_id=7, user_id=8, language="en", text="How many videos?"
    )
    answer = QuestionAnswered(
        question=question,
        outcome="answered",
        value=300,
        sql="SELECT count(*) FROM videos",
        total_ms=12.5,
    )
    subject = subjects.answer("cli", str(question.question_id))

    await nc.publish(subject, answer.model_dump_json().encode())
    await nc.publish(subject, answer.model_dump_json().encode())

    async def logged() -> bool:
        async with db.connect() as connection:
            rows = await connection.execute(
                text("SELECT outcome, value, sql, text, total_ms FROM questions WHERE id = :id"),
                {"id": question.question_id},
            )
            found = rows.all()
        return found == [("answered", 300.0, answer.sql, question.text, 12.5)]

    await eventually(logged)


async def test_user_seen_upserts_bot_users(
    nc: Client, subjects: Subjects, db: AsyncEngine, eventually: Eventually
) -> None:
    """A second UserSeen keeps first_seen_at and refreshes names and last_seen_at."""
    user_id = int(uuid4().int % 10**12)
    first = datetime(2025, 11, 1, 12, tzinfo=UTC)
    later = first + timedelta(days=2)
    await nc.publish(
        subjects.user_seen,
        UserSeen(user_id=user_id, chat_id=1, username="old", seen_at=first)
        .model_dump_json()
        .encode(),
    )
    await asyncio.sleep(0.2)
    await nc.publish(
        subjects.user_seen,
        UserSeen(user_id=user_id, chat_id=1, username="new", first_name="Ann", seen_at=later)
        .model_dump_json()
        .encode(),
    )

    async def refreshed() -> bool:
        async with db.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT username, first_name, first_seen_at, last_seen_at"
                    " FROM bot_users WHERE user_id = :u"
                ),
                {"u": user_id},
            )
            found = rows.all()
        return found == [("new", "Ann", first, later)]

    try:
        await eventually(refreshed)
    finally:
        async with db.begin() as connection:
            await connection.execute(
                text("DELETE FROM bot_users WHERE user_id = :u"), {"u": user_id}
            )


@pytest.mark.usefixtures("clean_videos")
async def test_snapshots_before_their_video_are_retried_not_lost(
    nc: Client, subjects: Subjects, db: AsyncEngine, eventually: Eventually
) -> None:
    """Snapshots arriving before their video fail the foreign key, are nak'ed and stored later."""
    video = a_video()
    snapshot = SnapshotRecord(
        id=uuid4().hex,
        video_id=video.id,
        **dict.fromkeys(COUNTERS, 5),
        **{f"delta_{name}": 1 for name in COUNTERS},
        created_at=video.created_at,
        updated_at=video.created_at,
    )
    import_id = uuid4().hex
    stored = await nc.subscribe(subjects.import_progress(import_id))
    js = nc.jetstream()

    for batch in (
        VideoBatch(import_id=import_id, batch_no=0, snapshots=(snapshot,)),
        VideoBatch(import_id=import_id, batch_no=1, videos=(video,)),
    ):
        await js.publish(subjects.video_batch, batch.model_dump_json().encode())

    confirmed = [
        BatchStored.model_validate_json((await stored.next_msg(timeout=15)).data) for _ in range(2)
    ]
    assert [c.batch_no for c in confirmed] == [1, 0]

    async def snapshot_stored() -> bool:
        async with db.connect() as connection:
            found = await connection.execute(text("SELECT count(*) FROM video_snapshots"))
            return bool(found.scalar_one() == 1)

    await eventually(snapshot_stored)


async def test_feedback_lands_on_its_question_even_when_it_arrives_first(
    nc: Client, subjects: Subjects, db: AsyncEngine, eventually: Eventually
) -> None:
    """👎 published before its answer is retried until the row exists, then stored on it."""
    question = QuestionAsked(channel="telegram", chat_id=9, user_id=9, language="en", text="q?")
    feedback = AnswerFeedback(
        question_id=question.question_id, chat_id=9, user_id=9, verdict="down"
    )
    await nc.publish(subjects.feedback, feedback.model_dump_json().encode())
    await asyncio.sleep(0.2)
    answer = QuestionAnswered(question=question, outcome="answered", value=1)
    await nc.publish(
        subjects.answer("telegram", str(question.question_id)), answer.model_dump_json().encode()
    )

    async def rated() -> bool:
        async with db.connect() as connection:
            rows = await connection.execute(
                text("SELECT feedback FROM questions WHERE id = :id"), {"id": question.question_id}
            )
            return rows.scalar_one_or_none() == "down"

    await eventually(rated)


async def test_admin_audit_is_stored_and_an_invalid_one_dead_lettered(
    nc: Client, subjects: Subjects, db: AsyncEngine, eventually: Eventually
) -> None:
    """An AdminAuditEvent becomes an ``admin_audit`` row, field for field; one with an unbounded
    command name goes to the dead-letter subject and the next is still stored."""
    dead = await nc.subscribe(subjects.dead_letter("ingest"))
    bad = AdminAuditEvent(user_id=91, command="alerts", allowed=False).model_dump(mode="json")
    bad["command"] = "x" * 33
    audit = AdminAuditEvent(
        user_id=91, chat_id=-10091, command="button:ack", allowed=False, detail="00000000000000aa"
    )

    await nc.publish(subjects.admin_audit, json.dumps(bad).encode())
    await nc.publish(subjects.admin_audit, audit.model_dump_json().encode())

    letter = DeadLetter.model_validate_json((await dead.next_msg(timeout=15)).data)
    assert (letter.subject, letter.payload) == (subjects.admin_audit, json.dumps(bad))
    assert "command" in letter.reason

    async def stored() -> bool:
        async with db.connect() as connection:
            rows = await connection.execute(
                text("SELECT * FROM admin_audit WHERE id = :id"), {"id": audit.audit_id}
            )
            row = rows.mappings().one_or_none()
        expected = audit.model_dump(include={"at", "user_id", "chat_id", "command", "detail"})
        return row is not None and {**row} == {"id": audit.audit_id, **expected, "allowed": False}

    await eventually(stored)
