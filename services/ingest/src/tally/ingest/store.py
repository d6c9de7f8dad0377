"""Database writes of ingest: idempotent upserts with SQLAlchemy Core, one transaction each.

Every function raises ``sqlalchemy.exc.SQLAlchemyError`` (or ``OSError`` when the server is
unreachable) on failure, after rolling its transaction back.
"""

import asyncio
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tally.contracts.events import AdminAuditEvent, AnswerFeedback
from tally.infra.db.models import AdminAudit, BotUser, Question, Video, VideoSnapshot
from tally.infra.errors import TallyError
from tally.ingest.domain.rows import Row, chunks

VIDEOS: Table = Video.__table__  # type: ignore[assignment]
SNAPSHOTS: Table = VideoSnapshot.__table__  # type: ignore[assignment]
QUESTIONS: Table = Question.__table__  # type: ignore[assignment]
BOT_USERS: Table = BotUser.__table__  # type: ignore[assignment]
ADMIN_AUDIT: Table = AdminAudit.__table__  # type: ignore[assignment]


async def _upsert(connection: AsyncConnection, table: Table, rows: Sequence[Row]) -> None:
    """``INSERT … ON CONFLICT (id) DO UPDATE`` every column of ``rows``.

    SQLAlchemy sends an executemany as multi-row ``INSERT … VALUES (…), (…)`` statements
    ("insertmanyvalues"); chunks keep each under asyncpg's bind-parameter limit.
    """
    if not rows:
        return
    statement = insert(table)
    updates = {name: statement.excluded[name] for name in rows[0] if name != "id"}
    upsert = statement.on_conflict_do_update(index_elements=["id"], set_=updates)
    for chunk in chunks(rows, columns=len(rows[0])):
        await connection.execute(upsert, list(chunk))


async def upsert_videos(
    *, engine: AsyncEngine, videos: Sequence[Row], snapshots: Sequence[Row]
) -> None:
    """Upsert ``videos`` then ``snapshots`` in one transaction (all or nothing).

    Raises ``sqlalchemy.exc.IntegrityError`` when a snapshot's video is in neither the table
    nor ``videos``.
    """
    async with engine.begin() as connection:
        await _upsert(connection, VIDEOS, videos)
        await _upsert(connection, SNAPSHOTS, snapshots)


async def insert_questions(*, engine: AsyncEngine, rows: Sequence[Row]) -> int:
    """Add rows to the questions log in one multi-row INSERT; ids already there are skipped.

    Returns how many rows were added.
    """
    if not rows:
        return 0
    statement = insert(QUESTIONS).values(list(rows)).on_conflict_do_nothing(index_elements=["id"])
    async with engine.begin() as connection:
        result = await connection.execute(statement)
    return int(result.rowcount)


async def upsert_bot_user(*, engine: AsyncEngine, row: Row) -> None:
    """Add a bot user, or refresh its chat, names and ``last_seen_at`` (``first_seen_at`` kept)."""
    statement = insert(BOT_USERS).values(row)
    kept = {"user_id", "first_seen_at"}
    updates: dict[str, Any] = {name: statement.excluded[name] for name in row if name not in kept}
    updates["last_seen_at"] = text("GREATEST(bot_users.last_seen_at, excluded.last_seen_at)")
    async with engine.begin() as connection:
        await connection.execute(
            statement.on_conflict_do_update(index_elements=["user_id"], set_=updates)
        )


class QuestionNotLoggedYetError(TallyError):
    """Feedback arrived before its question's row (the answer is still on its way)."""


async def record_feedback(*, engine: AsyncEngine, feedback: AnswerFeedback) -> None:
    """Store a 👍/👎 on its question's log row (the latest verdict wins).

    Raises QuestionNotLoggedYetError when the row is not there yet.
    """
    statement = (
        update(QUESTIONS)
        .where(QUESTIONS.c.id == feedback.question_id)
        .values(feedback=feedback.verdict, feedback_at=feedback.at)
    )
    async with engine.begin() as connection:
        result = await connection.execute(statement)
    if result.rowcount == 0:
        raise QuestionNotLoggedYetError(f"no question {feedback.question_id} in the log yet")


async def insert_admin_audit(*, engine: AsyncEngine, audit: AdminAuditEvent) -> bool:
    """Add one row to ``admin_audit``; False when its id is there already (a redelivery)."""
    row = {
        "id": audit.audit_id,
        **audit.model_dump(include={"at", "user_id", "chat_id", "command", "allowed", "detail"}),
    }
    statement = insert(ADMIN_AUDIT).values(row).on_conflict_do_nothing(index_elements=["id"])
    async with engine.begin() as connection:
        result = await connection.execute(statement)
    return bool(result.rowcount)


async def database_answers(engine: AsyncEngine, *, timeout_s: float) -> bool:
    """True when ``SELECT 1`` succeeds within ``timeout_s`` seconds (readiness check)."""
    try:
        async with asyncio.timeout(timeout_s), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (OSError, TimeoutError, SQLAlchemyError):
        return False
    return True
