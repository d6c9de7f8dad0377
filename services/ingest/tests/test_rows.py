"""Ingest's pure row logic (no broker, no database)."""

from datetime import UTC, datetime
from uuid import uuid4

from tally.contracts.events import (
    QuestionAnswered,
    QuestionAsked,
    UserSeen,
    VideoBatch,
    VideoRecord,
)
from tally.ingest.activity.domain.rows import bot_user_row, question_row
from tally.ingest.videos.domain.rows import POSTGRES_MAX_BIND_PARAMS, batch_rows, chunks

STAMP = datetime(2025, 11, 1, tzinfo=UTC)


def test_chunks_stay_under_the_bind_parameter_limit() -> None:
    """Every chunk of 12-column rows binds at most 32767 parameters, and none is lost."""
    rows = list(range(10_000))
    parts = list(chunks(rows, columns=12))
    assert all(len(part) * 12 <= POSTGRES_MAX_BIND_PARAMS for part in parts)
    assert [row for part in parts for row in part] == rows


def test_a_repeated_video_id_keeps_the_last_row() -> None:
    """Two records with one id in a batch become one row, the later one's counters."""
    video_id = uuid4()
    fields = dict(creator_id="c", video_created_at=STAMP, created_at=STAMP, updated_at=STAMP)
    counters = dict(likes_count=0, comments_count=0, reports_count=0)
    older = VideoRecord(id=video_id, views_count=1, **fields, **counters)
    newer = VideoRecord(id=video_id, views_count=2, **fields, **counters)
    videos, snapshots = batch_rows(VideoBatch(import_id="i", batch_no=0, videos=(older, newer)))
    assert [row["views_count"] for row in videos] == [2]
    assert snapshots == []


def test_question_row_carries_the_log_columns() -> None:
    """A refused question is logged with its reason and no value."""
    asked = QuestionAsked(channel="telegram", chat_id=1, user_id=2, language="ru", text="Сколько?")
    answer = QuestionAnswered(question=asked, outcome="refused", reason="not about videos")
    row = question_row(answer, answered_at=STAMP)
    assert row["id"] == asked.question_id
    assert (row["outcome"], row["reason"], row["value"], row["plan"]) == (
        "refused",
        "not about videos",
        None,
        None,
    )
    assert (row["asked_at"], row["answered_at"]) == (asked.asked_at, STAMP)


def test_bot_user_row_is_first_and_last_seen_at_once() -> None:
    """A user seen for the first time has first_seen_at == last_seen_at == seen_at."""
    row = bot_user_row(UserSeen(user_id=5, chat_id=6, username="ann", seen_at=STAMP))
    assert (row["user_id"], row["username"], row["first_seen_at"], row["last_seen_at"]) == (
        5,
        "ann",
        STAMP,
        STAMP,
    )
