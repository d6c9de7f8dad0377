"""Rows the admins' reports read: the questions log, bot users and video snapshots, written
the way ingest writes them (tally.ingest.activity.store, tally.ingest.videos.store). Chat
messages: tests.factories.chat_rows.

``OpsRows`` remembers what it wrote, so a test can remove exactly its rows afterwards
(:meth:`OpsRows.remove`); other tests' rows in the shared database are left alone.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

_QUESTION = text(
    "INSERT INTO questions (id, channel, chat_id, user_id, language, text, outcome, engine, plan,"
    " reason, row_count, elapsed_ms, total_ms, asked_at, answered_at, feedback, feedback_at)"
    " VALUES (:id, 'telegram', :user, :user, :language, :text, :outcome, :engine,"
    " CAST(:plan AS jsonb), :reason, :rows, :elapsed_ms, :total_ms, :at, :at, :feedback,"
    " :feedback_at)"
)
_VIDEO = text(
    "INSERT INTO videos (id, creator_id, video_created_at, views_count, likes_count,"
    " comments_count, reports_count, created_at, updated_at)"
    " VALUES (:id, 'ops-test', :at, 0, 0, 0, 0, :at, :at)"
)
_SNAPSHOT = text(
    "INSERT INTO video_snapshots (id, video_id, views_count, likes_count, comments_count,"
    " reports_count, delta_views_count, delta_likes_count, delta_comments_count,"
    " delta_reports_count, created_at, updated_at)"
    " VALUES (:id, :video, 1, 0, 0, 0, 1, 0, 0, 0, :at, :at)"
)
_BOT_USER = text(
    "INSERT INTO bot_users (user_id, chat_id, username, first_name, language_code,"
    " first_seen_at, last_seen_at) VALUES (:user, :user, :username, 'N', 'en', :first, :last)"
    " ON CONFLICT (user_id) DO UPDATE SET first_seen_at = excluded.first_seen_at,"
    " last_seen_at = excluded.last_seen_at"
)


def plan_json(dataset: str, aggregate: str) -> str:
    """A plan's JSON as the questions log keeps it (only what the reports read matters)."""
    return json.dumps(
        {"version": 1, "dataset": dataset, "measure": {"aggregate": aggregate}, "filters": []}
    )


@dataclass
class OpsRows:
    """Rows of the questions log, ``bot_users`` and videos, written through ``connection``
    (commit is the caller's)."""

    connection: AsyncConnection
    question_ids: list[UUID] = field(default_factory=list)
    user_ids: list[int] = field(default_factory=list)
    video_ids: list[UUID] = field(default_factory=list)

    async def video(self, snapshots_at: list[datetime]) -> UUID:
        """A video with one hourly snapshot taken at each of ``snapshots_at``."""
        video_id = uuid4()
        await self.connection.execute(_VIDEO, {"id": video_id, "at": min(snapshots_at)})
        for at in snapshots_at:
            await self.connection.execute(
                _SNAPSHOT, {"id": uuid4().hex, "video": video_id, "at": at}
            )
        self.video_ids.append(video_id)
        return video_id

    async def user(
        self, user_id: int, *, first_seen_at: datetime, last_seen_at: datetime | None = None
    ) -> None:
        """A bot user first seen at ``first_seen_at``."""
        await self.connection.execute(
            _BOT_USER,
            {
                "user": user_id,
                "username": f"u{user_id}",
                "first": first_seen_at,
                "last": last_seen_at or first_seen_at,
            },
        )
        self.user_ids.append(user_id)

    async def question(
        self,
        user_id: int,
        at: datetime,
        *,
        outcome: str = "answered",
        total_ms: float = 100.0,
        elapsed_ms: float = 0.0,
        language: str = "en",
        engine: str | None = "builtin",
        plan: tuple[str, str] | None = None,
        reason: str | None = None,
        feedback: str | None = None,
    ) -> UUID:
        """A question asked by ``user_id`` at ``at``; ``plan`` is (dataset, aggregate)."""
        question_id = uuid4()
        values: dict[str, Any] = {
            "id": question_id,
            "user": user_id,
            "language": language,
            "text": "how many?",
            "outcome": outcome,
            "engine": engine,
            "plan": plan_json(*plan) if plan else None,
            "reason": reason,
            "rows": 1,
            "elapsed_ms": elapsed_ms,
            "total_ms": total_ms,
            "at": at,
            "feedback": feedback,
            "feedback_at": at if feedback else None,
        }
        await self.connection.execute(_QUESTION, values)
        self.question_ids.append(question_id)
        return question_id

    async def remove(self, engine: AsyncEngine) -> None:
        """Delete every row these factories wrote."""
        async with engine.begin() as connection:
            await connection.execute(
                text("DELETE FROM questions WHERE id = ANY(:ids)"), {"ids": self.question_ids}
            )
            await connection.execute(
                text("DELETE FROM bot_users WHERE user_id = ANY(:ids)"), {"ids": self.user_ids}
            )
            for table, column in (("video_snapshots", "video_id"), ("videos", "id")):
                await connection.execute(
                    text(f"DELETE FROM {table} WHERE {column} = ANY(:ids)"),
                    {"ids": self.video_ids},
                )
