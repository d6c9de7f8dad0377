"""Tables, as SQLAlchemy declarative models (Alembic migrations create them).

``videos`` and ``video_snapshots`` follow seed 000 column for column: counters are the
values at the time of the row, ``delta_*`` the gain since the previous hourly snapshot
(negative when a counter fell). All timestamps are ``timestamptz`` in UTC.
"""

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import BigInteger, DateTime, Float, ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

READER_ROLE = "tally_reader"
"""The login role the executor uses: SELECT on the analytics tables, nothing else."""

Timestamp = DateTime(timezone=True)


class Base(DeclarativeBase):
    pass


class Video(Base):
    __tablename__ = "videos"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    creator_id: Mapped[str] = mapped_column(String(64), index=True)
    video_created_at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    views_count: Mapped[int] = mapped_column(BigInteger)
    likes_count: Mapped[int] = mapped_column(BigInteger)
    comments_count: Mapped[int] = mapped_column(BigInteger)
    reports_count: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


class VideoSnapshot(Base):
    __tablename__ = "video_snapshots"
    __table_args__ = (Index("ix_video_snapshots_created_at_video_id", "created_at", "video_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    video_id: Mapped[UUID] = mapped_column(ForeignKey("videos.id"), index=True)
    views_count: Mapped[int] = mapped_column(BigInteger)
    likes_count: Mapped[int] = mapped_column(BigInteger)
    comments_count: Mapped[int] = mapped_column(BigInteger)
    reports_count: Mapped[int] = mapped_column(BigInteger)
    delta_views_count: Mapped[int] = mapped_column(BigInteger)
    delta_likes_count: Mapped[int] = mapped_column(BigInteger)
    delta_comments_count: Mapped[int] = mapped_column(BigInteger)
    delta_reports_count: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


class BotUser(Base):
    """A Telegram user who talked to the bot; filled on first contact, touched on each visit."""

    __tablename__ = "bot_users"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    username: Mapped[str | None] = mapped_column(String(64))
    first_name: Mapped[str | None] = mapped_column(String(256))
    last_name: Mapped[str | None] = mapped_column(String(256))
    language_code: Mapped[str | None] = mapped_column(String(16))
    first_seen_at: Mapped[datetime] = mapped_column(Timestamp)
    last_seen_at: Mapped[datetime] = mapped_column(Timestamp)


class Question(Base):
    """The questions log: who asked what, the plan, the SQL, the answer, outcome, latency."""

    __tablename__ = "questions"

    id: Mapped[UUID] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    user_id: Mapped[int] = mapped_column(BigInteger, index=True)
    language: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16), index=True)
    engine: Mapped[str | None] = mapped_column(String(16))
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    sql: Mapped[str | None] = mapped_column(Text)
    params: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    value: Mapped[float | None] = mapped_column(Float)
    interpretation: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    row_count: Mapped[int] = mapped_column(BigInteger)
    elapsed_ms: Mapped[float] = mapped_column(Float)
    total_ms: Mapped[float] = mapped_column(Float)
    asked_at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    answered_at: Mapped[datetime] = mapped_column(Timestamp)
    feedback: Mapped[str | None] = mapped_column(String(8))
    feedback_at: Mapped[datetime | None] = mapped_column(Timestamp)
