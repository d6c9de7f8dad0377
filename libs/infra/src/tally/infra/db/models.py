"""Tables, as SQLAlchemy declarative models (Alembic migrations create them).

Chat analytics (migration 0003): ``messages`` is partitioned by month on ``sent_at`` (a
hypertable under TimescaleDB); ``chat_daily`` and ``user_chat_daily`` count by the chat's
local calendar day (``chats.timezone``), ``chat_hourly`` by UTC hour. Ingest keeps the
rollups in the same transaction as the raw rows.

``videos`` and ``video_snapshots`` follow seed 000 column for column: counters are the
values at the time of the row, ``delta_*`` the gain since the previous hourly snapshot
(negative when a counter fell). All timestamps are ``timestamptz`` in UTC.
"""

from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Double,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    func,
    literal_column,
)
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

READER_ROLE = "tally_reader"
"""The login role of built-in plans, chat reports, the dashboard and data alerts: SELECT on the
video and chat tables (migrations 0001, 0003, 0004), nothing else."""
LLM_ROLE = "tally_llm"
"""The login role of LLM-written SQL (migration 0008): SELECT on ``videos`` and
``video_snapshots`` only."""
OPS_ROLE = "tally_ops"
"""The login role of the admins' operations reports (migration 0006): SELECT on the questions
log, the bot users, messages, video snapshots and ``alembic_version``."""

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


class Chat(Base):
    """A group or supergroup the bot is in, with its settings (see ChatSettings)."""

    __tablename__ = "chats"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    chat_type: Mapped[str] = mapped_column(String(16))
    title: Mapped[str | None] = mapped_column(String(256))
    timezone: Mapped[str] = mapped_column(String(64), server_default="UTC")
    store_text: Mapped[bool] = mapped_column(Boolean, server_default="false")
    retention_days: Mapped[int | None] = mapped_column(Integer)
    first_seen_at: Mapped[datetime] = mapped_column(Timestamp)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


class User(Base):
    """A Telegram user seen in any chat."""

    __tablename__ = "users"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    username: Mapped[str | None] = mapped_column(String(64))
    first_name: Mapped[str | None] = mapped_column(String(256))
    last_name: Mapped[str | None] = mapped_column(String(256))
    is_bot: Mapped[bool] = mapped_column(Boolean, server_default="false")
    first_seen_at: Mapped[datetime] = mapped_column(Timestamp)
    last_seen_at: Mapped[datetime] = mapped_column(Timestamp)


class Message(Base):
    """One message; unique on (chat_id, message_id) since a message's ``sent_at`` never
    changes. ``text`` is NULL unless the chat stores text."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_chat_sent", "chat_id", "sent_at"),
        Index("ix_messages_chat_user_sent", "chat_id", "user_id", "sent_at"),
        Index(
            "ix_messages_chat_reply_delay",
            "chat_id",
            "sent_at",
            postgresql_include=["reply_delay_s"],
            postgresql_where=sql_text("reply_delay_s IS NOT NULL"),
        ),
        {"postgresql_partition_by": "RANGE (sent_at)"},
    )

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(Timestamp, primary_key=True)
    thread_id: Mapped[int | None] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    message_type: Mapped[str] = mapped_column(String(16))
    text_length: Mapped[int] = mapped_column(Integer)
    word_count: Mapped[int] = mapped_column(Integer)
    reply_to_message_id: Mapped[int | None] = mapped_column(BigInteger)
    forwarded: Mapped[bool] = mapped_column(Boolean)
    links: Mapped[int] = mapped_column(Integer)
    mentions: Mapped[int] = mapped_column(Integer)
    hashtags: Mapped[int] = mapped_column(Integer)
    text: Mapped[str | None] = mapped_column(Text)
    edited_at: Mapped[datetime | None] = mapped_column(Timestamp)
    deleted_at: Mapped[datetime | None] = mapped_column(Timestamp)
    reply_to_user_id: Mapped[int | None] = mapped_column(BigInteger)
    """A reply's: the author of the message it answers, when ingest found it (migration 0009)."""
    reply_delay_s: Mapped[float | None] = mapped_column(Double)
    """A reply's: seconds since the message it answers, when ingest found it (>= 0)."""


class MemberEvent(Base):
    """A join or leave (``change``), unique by the event's id."""

    __tablename__ = "member_events"
    __table_args__ = (Index("ix_member_events_chat_time", "chat_id", "occurred_at"),)

    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int] = mapped_column(BigInteger)
    change: Mapped[str] = mapped_column(String(8))
    inviter_id: Mapped[int | None] = mapped_column(BigInteger)
    via_link: Mapped[bool] = mapped_column(Boolean)
    occurred_at: Mapped[datetime] = mapped_column(Timestamp)


class Reaction(Base):
    """One user's reaction (an emoji) to a message, while it stands."""

    __tablename__ = "reactions"
    __table_args__ = (Index("ix_reactions_chat_time", "chat_id", "reacted_at"),)

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    emoji: Mapped[str] = mapped_column(String(64), primary_key=True)
    reacted_at: Mapped[datetime] = mapped_column(Timestamp)


class ReactionCount(Base):
    """Anonymous reaction totals of a message, as Telegram last reported them."""

    __tablename__ = "reaction_counts"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    emoji: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(Timestamp)


class ChatDaily(Base):
    """Per chat and local day: messages, words, joins, leaves, reactions added."""

    __tablename__ = "chat_daily"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    messages: Mapped[int] = mapped_column(BigInteger, server_default="0")
    words: Mapped[int] = mapped_column(BigInteger, server_default="0")
    joins: Mapped[int] = mapped_column(BigInteger, server_default="0")
    leaves: Mapped[int] = mapped_column(BigInteger, server_default="0")
    reactions: Mapped[int] = mapped_column(BigInteger, server_default="0")


class UserChatDaily(Base):
    """Per chat, local day and user: messages and words (exact distinct users per day); the
    primary key includes the counts (0013), so a day's rows of every member are read from it
    alone."""

    __tablename__ = "user_chat_daily"
    __table_args__ = (
        PrimaryKeyConstraint("chat_id", "day", "user_id", postgresql_include=["messages", "words"]),
        Index("ix_user_chat_daily_user", "chat_id", "user_id", "day"),
    )

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    messages: Mapped[int] = mapped_column(BigInteger, server_default="0")
    words: Mapped[int] = mapped_column(BigInteger, server_default="0")


class ChatHourly(Base):
    """Per chat and UTC hour: messages and words."""

    __tablename__ = "chat_hourly"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hour: Mapped[datetime] = mapped_column(Timestamp, primary_key=True)
    messages: Mapped[int] = mapped_column(BigInteger, server_default="0")
    words: Mapped[int] = mapped_column(BigInteger, server_default="0")


class ChatContentDaily(Base):
    """Per chat, local day and message type: messages, entities, forwards, replies (0009)."""

    __tablename__ = "chat_content_daily"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    message_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    messages: Mapped[int] = mapped_column(BigInteger, server_default="0")
    links: Mapped[int] = mapped_column(BigInteger, server_default="0")
    mentions: Mapped[int] = mapped_column(BigInteger, server_default="0")
    hashtags: Mapped[int] = mapped_column(BigInteger, server_default="0")
    forwards: Mapped[int] = mapped_column(BigInteger, server_default="0")
    replies: Mapped[int] = mapped_column(BigInteger, server_default="0")


class ChatTopicDaily(Base):
    """Per chat, local day and forum topic (``thread_id``; 0: no topic): messages (0009)."""

    __tablename__ = "chat_topic_daily"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    thread_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    messages: Mapped[int] = mapped_column(BigInteger, server_default="0")


class UserTopicMonthly(Base):
    """Per chat, month (its first day), topic (0: none) and user: bit ``d - 1`` of ``days``
    is set when the user posted in the topic on local day ``d`` (0009); a covering index
    (0012)."""

    __tablename__ = "user_topic_monthly"
    __table_args__ = (
        Index(
            "ix_user_topic_monthly_cover",
            "chat_id",
            "month",
            "thread_id",
            "user_id",
            postgresql_include=["days"],
        ),
    )

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    thread_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    days: Mapped[int] = mapped_column(Integer, server_default="0")


class ReplyPairsDaily(Base):
    """Per chat, local day, replier (``user_id``; 0: anonymous) and the author of the
    message replied to (``replied_user_id``): replies, self-replies left out (0009); by
    replier and by author (covering indexes, 0012)."""

    __tablename__ = "reply_pairs_daily"
    __table_args__ = (
        Index(
            "ix_reply_pairs_daily_replier",
            "chat_id",
            "user_id",
            "day",
            postgresql_include=["replied_user_id", "replies"],
        ),
        Index(
            "ix_reply_pairs_daily_replied",
            "chat_id",
            "replied_user_id",
            "day",
            postgresql_include=["user_id", "replies"],
        ),
    )

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    replied_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    replies: Mapped[int] = mapped_column(BigInteger, server_default="0")


class MessageReaction(Base):
    """Per message and emoji, the reactions standing: the larger of its named reactions and
    its anonymous total; with the message's ``sent_at`` and author (0009). A raw row:
    retention deletes it with the message."""

    __tablename__ = "message_reactions"
    __table_args__ = (Index("ix_message_reactions_chat_sent", "chat_id", "sent_at"),)

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    emoji: Mapped[str] = mapped_column(String(64), primary_key=True)
    sent_at: Mapped[datetime] = mapped_column(Timestamp)
    author_id: Mapped[int | None] = mapped_column(BigInteger)
    count: Mapped[int] = mapped_column(Integer)


class MessageReactionTotal(Base):
    """Per message with reactions standing: their sum over emoji (``message_reactions``), the
    local day it was sent, its ``sent_at`` and author (0009).
    ``ix_message_reaction_totals_day_cover`` (0012) gives each day's most reacted messages;
    the period's are among them. A raw row: retention
    deletes it with the message."""

    __tablename__ = "message_reaction_totals"
    __table_args__ = (
        Index(
            "ix_message_reaction_totals_day_cover",
            "chat_id",
            "day",
            literal_column("reactions DESC"),
            "message_id",
            postgresql_include=["sent_at", "author_id"],
        ),
    )

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(Timestamp)
    author_id: Mapped[int | None] = mapped_column(BigInteger)
    reactions: Mapped[int] = mapped_column(Integer)


class ReactionEmojiDaily(Base):
    """Per chat, local day a message was sent and emoji: the reactions standing on the day's
    messages (as ``message_reactions`` counts them) (0009); the primary key includes the
    count (0013)."""

    __tablename__ = "reaction_emoji_daily"
    __table_args__ = (
        PrimaryKeyConstraint("chat_id", "day", "emoji", postgresql_include=["count"]),
    )

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    emoji: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, server_default="0")


class UserReactionsDaily(Base):
    """Per chat, local day a message was sent and user: reactions standing on the user's
    messages of the day (``received``), named reactions the user put on the day's messages
    (``given``) (0009)."""

    __tablename__ = "user_reactions_daily"
    __table_args__ = (
        Index(
            "ix_user_reactions_daily_cover",
            "chat_id",
            "day",
            "user_id",
            postgresql_include=["received", "given"],
        ),
    )

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    received: Mapped[int] = mapped_column(BigInteger, server_default="0")
    given: Mapped[int] = mapped_column(BigInteger, server_default="0")


class ChatWordsDaily(Base):
    """Per chat, local day, language and word: how often the day's stored text wrote it;
    emptied for a chat that turns text storage off (0009)."""

    __tablename__ = "chat_words_daily"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    word: Mapped[str] = mapped_column(Text, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, server_default="0")


class ChatHashtagsDaily(Base):
    """Per chat, local day and hashtag (lower case, no ``#``): how often the day's stored text
    wrote it; emptied for a chat that turns text storage off (0009)."""

    __tablename__ = "chat_hashtags_daily"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    tag: Mapped[str] = mapped_column(Text, primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, server_default="0")


class MemberCount(Base):
    """Per chat and local day: the member count Telegram reported (``getChatMemberCount``,
    bots included) in the day's last snapshot, taken at ``observed_at`` (0010)."""

    __tablename__ = "member_counts"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    observed_at: Mapped[datetime] = mapped_column(Timestamp)


class UserChatMonthly(Base):
    """Per chat, month (its first day) and user: bit ``d - 1`` of ``days`` is set when the user
    posted on local day ``d``, kept by a trigger on ``user_chat_daily`` (migration 0004);
    ``messages`` and ``words``, the sums of the month's ``user_chat_daily`` rows, kept by
    ingest, and a covering index (0012)."""

    __tablename__ = "user_chat_monthly"
    __table_args__ = (
        Index(
            "ix_user_chat_monthly_cover",
            "chat_id",
            "month",
            "user_id",
            postgresql_include=["days", "messages", "words"],
        ),
    )

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    days: Mapped[int] = mapped_column(Integer, server_default="0")
    messages: Mapped[int] = mapped_column(BigInteger, server_default="0")
    words: Mapped[int] = mapped_column(BigInteger, server_default="0")


class UserRepliesDaily(Base):
    """Per chat, local day and user: replies sent that day to the user's messages by others
    (``reply_pairs_daily`` summed by the author replied to) (0012)."""

    __tablename__ = "user_replies_daily"
    __table_args__ = (
        PrimaryKeyConstraint("chat_id", "day", "user_id", postgresql_include=["received"]),
    )

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    received: Mapped[int] = mapped_column(BigInteger, server_default="0")


class UserRepliesMonthly(Base):
    """Per chat, month (its first day) and user: the sum of the month's
    ``user_replies_daily`` rows (0012)."""

    __tablename__ = "user_replies_monthly"
    __table_args__ = (
        PrimaryKeyConstraint("chat_id", "month", "user_id", postgresql_include=["received"]),
    )

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    received: Mapped[int] = mapped_column(BigInteger, server_default="0")


class UserReactionsMonthly(Base):
    """Per chat, month (its first day) and user: the sums of the month's
    ``user_reactions_daily`` rows (``received``, ``given``); no row when both are 0 (0012)."""

    __tablename__ = "user_reactions_monthly"
    __table_args__ = (
        PrimaryKeyConstraint(
            "chat_id", "month", "user_id", postgresql_include=["received", "given"]
        ),
    )

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    received: Mapped[int] = mapped_column(BigInteger, server_default="0")
    given: Mapped[int] = mapped_column(BigInteger, server_default="0")


class UserHoursDaily(Base):
    """Per chat, user, local day and local hour (0-23, in the chat's time zone): the
    messages the user sent (0013)."""

    __tablename__ = "user_hours_daily"
    __table_args__ = (
        PrimaryKeyConstraint("chat_id", "user_id", "day", "hour", postgresql_include=["messages"]),
    )

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    hour: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    messages: Mapped[int] = mapped_column(BigInteger, server_default="0")


class UserHoursMonthly(Base):
    """Per chat, user, month (its first day) and local hour: the sum of the month's
    ``user_hours_daily`` rows (0013)."""

    __tablename__ = "user_hours_monthly"
    __table_args__ = (
        PrimaryKeyConstraint(
            "chat_id", "user_id", "month", "hour", postgresql_include=["messages"]
        ),
    )

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    hour: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    messages: Mapped[int] = mapped_column(BigInteger, server_default="0")


class ReplyPairsMonthly(Base):
    """Per chat, month (its first day), replier (0: anonymous) and replied-to author: the sum
    of the month's ``reply_pairs_daily`` rows; by month and replies, highest first (0014)."""

    __tablename__ = "reply_pairs_monthly"
    __table_args__ = (
        PrimaryKeyConstraint(
            "chat_id", "month", "user_id", "replied_user_id", postgresql_include=["replies"]
        ),
        Index(
            "ix_reply_pairs_monthly_top",
            "chat_id",
            "month",
            literal_column("replies DESC"),
            postgresql_include=["user_id", "replied_user_id"],
        ),
    )

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    replied_user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    replies: Mapped[int] = mapped_column(BigInteger, server_default="0")


class ReplyDelaysDaily(Base):
    """Per chat, delay bucket, local day and delay (seconds, ``messages.reply_delay_s``): the
    replies sent that day with that delay (0014)."""

    __tablename__ = "reply_delays_daily"
    __table_args__ = (
        PrimaryKeyConstraint("chat_id", "bucket", "day", "delay_s", postgresql_include=["replies"]),
    )

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    delay_s: Mapped[float] = mapped_column(Double, primary_key=True)
    replies: Mapped[int] = mapped_column(BigInteger, server_default="0")


class ReplyDelayBucketsDaily(Base):
    """Per chat, local day and delay bucket: the replies sent that day with a delay in the
    bucket (``reply_delays_daily`` summed by bucket) (0014)."""

    __tablename__ = "reply_delay_buckets_daily"
    __table_args__ = (
        PrimaryKeyConstraint("chat_id", "day", "bucket", postgresql_include=["replies"]),
    )

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    replies: Mapped[int] = mapped_column(BigInteger, server_default="0")


class ReplyDelayBucketsMonthly(Base):
    """Per chat, month (its first day) and delay bucket: the sum of the month's
    ``reply_delay_buckets_daily`` rows (0014)."""

    __tablename__ = "reply_delay_buckets_monthly"
    __table_args__ = (
        PrimaryKeyConstraint("chat_id", "month", "bucket", postgresql_include=["replies"]),
    )

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    month: Mapped[date] = mapped_column(Date, primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    replies: Mapped[int] = mapped_column(BigInteger, server_default="0")


class AlertHistory(Base):
    """One alert event (migration 0005): fired, resolved, acknowledged, silenced, unsilenced or
    notified; ``actor_id`` is the acting admin's Telegram user id (null: the engine)."""

    __tablename__ = "alert_history"
    __table_args__ = (Index("ix_alert_history_fingerprint", "fingerprint", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    fingerprint: Mapped[str] = mapped_column(String(16))
    alertname: Mapped[str] = mapped_column(String(64))
    labels: Mapped[dict[str, str]] = mapped_column(JSONB)
    event: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[str] = mapped_column(Text, server_default="")


class AlertSilence(Base):
    """A silence (migration 0005): ``matchers`` is a JSON list of Alertmanager matchers;
    ``ends_at`` null means "until resolved"; ``expired_at`` is set when it ended early."""

    __tablename__ = "alert_silences"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    matchers: Mapped[list[str]] = mapped_column(JSONB)
    created_by: Mapped[int] = mapped_column(BigInteger)
    comment: Mapped[str] = mapped_column(Text, server_default="")
    starts_at: Mapped[datetime] = mapped_column(Timestamp)
    ends_at: Mapped[datetime | None] = mapped_column(Timestamp)
    until_resolved: Mapped[bool] = mapped_column(Boolean, server_default="false")
    expired_at: Mapped[datetime | None] = mapped_column(Timestamp)


class AlertWatch(Base):
    """An admin's data alert (migration 0005): ``rule`` is a tally.alerts Rule as JSON;
    ``chat_id`` is the chat it was made in (null: a private chat)."""

    __tablename__ = "alert_watches"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    rule: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_by: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(Timestamp, server_default=func.now())
    enabled: Mapped[bool] = mapped_column(Boolean, server_default="true")


class AdminAudit(Base):
    """One use of an admin command or alert button (migration 0007), allowed or refused:
    ``id`` is the AdminAuditEvent's id (a redelivered event is stored once), ``command`` a
    bounded name (``alerts``, ``button:ack``), ``chat_id`` null for a press without a chat."""

    __tablename__ = "admin_audit"
    __table_args__ = (Index("ix_admin_audit_user_id_at", "user_id", "at"),)

    id: Mapped[UUID] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    command: Mapped[str] = mapped_column(String(32))
    allowed: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(Text, server_default="")
