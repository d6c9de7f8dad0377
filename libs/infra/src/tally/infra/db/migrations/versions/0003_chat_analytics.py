"""Chat analytics: chats, users, messages, member events, reactions, and the rollups.

``messages`` is partitioned by month on ``sent_at``. On plain PostgreSQL it is a
declaratively partitioned table; ingest creates each month's partition before the first row
of that month (:func:`tally.chatstore.write.partitions.ensure_message_partitions`), so there is no
default partition to get in the way. When the TimescaleDB extension is available, the
migration creates it and makes ``messages`` a hypertable (monthly chunks) instead.

The rollups (``chat_daily``, ``user_chat_daily``, ``chat_hourly``) are tables that ingest
maintains in the same transaction as the raw rows, on both paths: ``day`` is the calendar day
in the chat's own time zone (``chats.timezone``), ``hour`` is the UTC hour. A continuous
aggregate cannot bucket by a per-chat time zone, so exact local days come from ingest.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
READER = "tally_reader"
READABLE = (
    "chats",
    "users",
    "messages",
    "member_events",
    "reactions",
    "reaction_counts",
    "chat_daily",
    "user_chat_daily",
    "chat_hourly",
)


def _timescaledb_available() -> bool:
    """Whether the server offers TimescaleDB; offline (``--sql``), whether the
    ``timescaledb`` attribute or ``-x timescaledb=true`` says it will."""
    if context.is_offline_mode():
        said = context.config.attributes.get("timescaledb")
        if said is None:
            said = context.get_x_argument(as_dictionary=True).get("timescaledb", "false")
        return str(said).lower() in {"1", "true", "yes"}
    bind = op.get_bind()
    found = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
    ).first()
    return found is not None


def _messages(*, partitioned: bool) -> None:
    options: dict[str, Any] = {"postgresql_partition_by": "RANGE (sent_at)"} if partitioned else {}
    op.create_table(
        "messages",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", TS, nullable=False),
        sa.Column("thread_id", sa.BigInteger()),
        sa.Column("user_id", sa.BigInteger()),
        sa.Column("message_type", sa.String(16), nullable=False),
        sa.Column("text_length", sa.Integer(), nullable=False),
        sa.Column("word_count", sa.Integer(), nullable=False),
        sa.Column("reply_to_message_id", sa.BigInteger()),
        sa.Column("forwarded", sa.Boolean(), nullable=False),
        sa.Column("links", sa.Integer(), nullable=False),
        sa.Column("mentions", sa.Integer(), nullable=False),
        sa.Column("hashtags", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text()),
        sa.Column("edited_at", TS),
        sa.Column("deleted_at", TS),
        sa.PrimaryKeyConstraint("chat_id", "message_id", "sent_at"),
        **options,
    )
    op.create_index("ix_messages_chat_sent", "messages", ["chat_id", "sent_at"])
    op.create_index("ix_messages_chat_user_sent", "messages", ["chat_id", "user_id", "sent_at"])


def upgrade() -> None:
    op.create_table(
        "chats",
        sa.Column("chat_id", sa.BigInteger(), primary_key=True),
        sa.Column("chat_type", sa.String(16), nullable=False),
        sa.Column("title", sa.String(256)),
        sa.Column("timezone", sa.String(64), nullable=False, server_default="UTC"),
        sa.Column("store_text", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("retention_days", sa.Integer()),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "users",
        sa.Column("user_id", sa.BigInteger(), primary_key=True),
        sa.Column("username", sa.String(64)),
        sa.Column("first_name", sa.String(256)),
        sa.Column("last_name", sa.String(256)),
        sa.Column("is_bot", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
    )
    timescale = _timescaledb_available()
    _messages(partitioned=not timescale)
    if timescale:
        op.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        op.execute(
            "SELECT create_hypertable('messages', 'sent_at', "
            "chunk_time_interval => interval '1 month')"
        )
    op.create_table(
        "member_events",
        sa.Column("event_id", sa.String(128), primary_key=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("change", sa.String(8), nullable=False),
        sa.Column("inviter_id", sa.BigInteger()),
        sa.Column("via_link", sa.Boolean(), nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
    )
    op.create_index("ix_member_events_chat_time", "member_events", ["chat_id", "occurred_at"])
    op.create_table(
        "reactions",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("emoji", sa.String(64), nullable=False),
        sa.Column("reacted_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "message_id", "user_id", "emoji"),
    )
    op.create_index("ix_reactions_chat_time", "reactions", ["chat_id", "reacted_at"])
    op.create_table(
        "reaction_counts",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("emoji", sa.String(64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "message_id", "emoji"),
    )
    op.create_table(
        "chat_daily",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("messages", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("words", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("joins", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("leaves", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("reactions", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("chat_id", "day"),
    )
    op.create_table(
        "user_chat_daily",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("messages", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("words", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("chat_id", "day", "user_id"),
    )
    op.create_index("ix_user_chat_daily_user", "user_chat_daily", ["chat_id", "user_id", "day"])
    op.create_table(
        "chat_hourly",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("hour", TS, nullable=False),
        sa.Column("messages", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("words", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("chat_id", "hour"),
    )
    op.execute(f"GRANT SELECT ON {', '.join(READABLE)} TO {READER}")


def downgrade() -> None:
    op.execute(f"REVOKE ALL ON {', '.join(READABLE)} FROM {READER}")
    for table in reversed(READABLE):
        op.drop_table(table)
