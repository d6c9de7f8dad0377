"""Database writes of the activity record: idempotent inserts and upserts with SQLAlchemy
Core, one transaction each.

Every function raises ``sqlalchemy.exc.SQLAlchemyError`` (or ``OSError`` when the server is
unreachable) on failure, after rolling its transaction back.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.contracts.events import AdminAuditEvent, AnswerFeedback
from tally.infra.db.models import AdminAudit, BotUser, Question
from tally.ingest.activity.domain.rows import Row
from tally.ingest.delivery import NotYetWritableError

QUESTIONS: Table = Question.__table__  # type: ignore[assignment]
BOT_USERS: Table = BotUser.__table__  # type: ignore[assignment]
ADMIN_AUDIT: Table = AdminAudit.__table__  # type: ignore[assignment]


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


class QuestionNotLoggedYetError(NotYetWritableError):
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
