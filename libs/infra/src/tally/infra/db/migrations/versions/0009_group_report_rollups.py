"""Rollups for the group reports (issue 15): content, topics, reply pairs; a reply's original
author and delay on the reply row.

* ``messages.reply_to_user_id``, ``messages.reply_delay_s``: ingest looks up the message a
  reply answers (same chat, posted before the reply) when it writes the reply, and stores its
  author and the delay in seconds, so no report joins a reply to its original across the
  monthly partitions. ``ix_messages_chat_reply_delay`` (partial, on replies whose original
  was found) serves the median delay.
* ``chat_content_daily`` (chat, local day, message type): messages, links, mentions,
  hashtags, forwards, replies.
* ``chat_topic_daily`` (chat, local day, thread id, 0 for none): messages;
  ``user_topic_monthly`` (chat, month, thread id, user): a bit mask of the local days the
  user posted in the topic, as ``user_chat_monthly`` (0004), for exact distinct members.
* ``reply_pairs_daily`` (chat, local day, replier (0: anonymous), replied-to author):
  replies, self-replies and replies to anonymous messages left out.

Ingest keeps them in the batch's transaction like the other rollups. Existing rows are
backfilled from the raw rows still stored (days whose raw rows retention deleted stay
uncounted in the new rollups; ``tally replay --rebuild`` recounts from the stream).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

READER = "tally_reader"
TABLES = ("chat_content_daily", "chat_topic_daily", "user_topic_monthly", "reply_pairs_daily")
LOCAL_DAY = "(m.sent_at AT TIME ZONE c.timezone)::date"
BACKFILL = (
    """UPDATE messages AS r SET reply_to_user_id = o.user_id,
              reply_delay_s = extract(epoch FROM r.sent_at - o.sent_at)
       FROM messages AS o
       WHERE r.reply_to_message_id IS NOT NULL AND o.chat_id = r.chat_id
         AND o.message_id = r.reply_to_message_id AND o.sent_at <= r.sent_at""",
    f"""INSERT INTO chat_content_daily
       SELECT m.chat_id, {LOCAL_DAY}, m.message_type, count(*), sum(m.links), sum(m.mentions),
              sum(m.hashtags), count(*) FILTER (WHERE m.forwarded),
              count(m.reply_to_message_id)
       FROM messages AS m JOIN chats AS c USING (chat_id) GROUP BY 1, 2, 3""",
    f"""INSERT INTO chat_topic_daily
       SELECT m.chat_id, {LOCAL_DAY}, coalesce(m.thread_id, 0), count(*)
       FROM messages AS m JOIN chats AS c USING (chat_id) GROUP BY 1, 2, 3""",
    f"""INSERT INTO user_topic_monthly
       SELECT m.chat_id, date_trunc('month', {LOCAL_DAY})::date, coalesce(m.thread_id, 0),
              m.user_id, bit_or(1 << (extract(day FROM {LOCAL_DAY})::int - 1))
       FROM messages AS m JOIN chats AS c USING (chat_id)
       WHERE m.user_id IS NOT NULL GROUP BY 1, 2, 3, 4""",
    f"""INSERT INTO reply_pairs_daily
       SELECT m.chat_id, {LOCAL_DAY}, coalesce(m.user_id, 0), m.reply_to_user_id, count(*)
       FROM messages AS m JOIN chats AS c USING (chat_id)
       WHERE m.reply_to_user_id IS NOT NULL
         AND m.user_id IS DISTINCT FROM m.reply_to_user_id
       GROUP BY 1, 2, 3, 4""",
)


def _counts(*names: str) -> list[sa.Column[int]]:
    return [sa.Column(name, sa.BigInteger(), nullable=False, server_default="0") for name in names]


def _chat_day() -> list[sa.Column[object]]:
    return [
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
    ]


def upgrade() -> None:
    op.add_column("messages", sa.Column("reply_to_user_id", sa.BigInteger()))
    op.add_column("messages", sa.Column("reply_delay_s", sa.Double()))
    op.create_index(
        "ix_messages_chat_reply_delay",
        "messages",
        ["chat_id", "sent_at"],
        postgresql_include=["reply_delay_s"],
        postgresql_where=sa.text("reply_delay_s IS NOT NULL"),
    )
    op.create_table(
        "chat_content_daily",
        *_chat_day(),
        sa.Column("message_type", sa.String(16), nullable=False),
        *_counts("messages", "links", "mentions", "hashtags", "forwards", "replies"),
        sa.PrimaryKeyConstraint("chat_id", "day", "message_type"),
    )
    op.create_table(
        "chat_topic_daily",
        *_chat_day(),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        *_counts("messages"),
        sa.PrimaryKeyConstraint("chat_id", "day", "thread_id"),
    )
    op.create_table(
        "user_topic_monthly",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("chat_id", "month", "thread_id", "user_id"),
    )
    op.create_table(
        "reply_pairs_daily",
        *_chat_day(),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("replied_user_id", sa.BigInteger(), nullable=False),
        *_counts("replies"),
        sa.PrimaryKeyConstraint("chat_id", "day", "user_id", "replied_user_id"),
    )
    for statement in BACKFILL:
        op.execute(statement)
    op.execute(f"GRANT SELECT ON {', '.join(TABLES)} TO {READER}")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
    op.drop_index("ix_messages_chat_reply_delay", table_name="messages")
    op.drop_column("messages", "reply_delay_s")
    op.drop_column("messages", "reply_to_user_id")
