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
* ``message_reactions`` (chat, message, emoji; with the message's ``sent_at`` and author): the
  reactions standing, the larger of the named ones and the anonymous total. A raw table
  (retention deletes it by ``sent_at``), ``ix_message_reactions_chat_sent`` for the most
  reacted messages of a period; ``message_reaction_totals`` (chat, message; with the local
  day it was sent, ``sent_at`` and author): their sum, ``ix_message_reaction_totals_day``
  (chat, day, reactions descending, message) for each day's most reacted messages.
* ``reaction_emoji_daily`` (chat, local day the message was sent, emoji): reactions standing;
  ``user_reactions_daily`` (chat, that day, user): ``received`` on their messages, ``given``
  (named reactions they put on the day's messages).
* ``chat_words_daily`` (chat, local day, language, word) and ``chat_hashtags_daily`` (chat,
  local day, tag): counts of the stored text, emptied for a chat that turns text storage off.
  Words are counted in Python (``tally.chatstore.tokens``, which this package cannot import),
  so this migration does not backfill them: ``tally replay --rebuild`` (or
  ``tally.chatstore.write.word_rollups.recount_words``) counts the text already stored.

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
TABLES = (
    "chat_content_daily",
    "chat_topic_daily",
    "user_topic_monthly",
    "reply_pairs_daily",
    "message_reactions",
    "message_reaction_totals",
    "reaction_emoji_daily",
    "user_reactions_daily",
    "chat_words_daily",
    "chat_hashtags_daily",
)
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
    """INSERT INTO message_reactions
       SELECT m.chat_id, m.message_id, t.emoji, m.sent_at, m.user_id, max(t.n)
       FROM (SELECT chat_id, message_id, emoji, count(*) AS n FROM reactions GROUP BY 1, 2, 3
             UNION ALL SELECT chat_id, message_id, emoji, count FROM reaction_counts) AS t
       JOIN messages AS m USING (chat_id, message_id)
       GROUP BY 1, 2, 3, 4, 5 HAVING max(t.n) > 0""",
    f"""INSERT INTO message_reaction_totals
       SELECT m.chat_id, m.message_id, {LOCAL_DAY}, m.sent_at, m.author_id, sum(m.count)
       FROM message_reactions AS m JOIN chats AS c USING (chat_id) GROUP BY 1, 2, 3, 4, 5""",
    f"""INSERT INTO reaction_emoji_daily
       SELECT m.chat_id, {LOCAL_DAY}, m.emoji, sum(m.count)
       FROM message_reactions AS m JOIN chats AS c USING (chat_id) GROUP BY 1, 2, 3""",
    f"""INSERT INTO user_reactions_daily (chat_id, day, user_id, received, given)
       SELECT chat_id, day, user_id, sum(received), sum(given)
       FROM (SELECT m.chat_id, {LOCAL_DAY} AS day, m.author_id AS user_id,
                    m.count AS received, 0 AS given
             FROM message_reactions AS m JOIN chats AS c USING (chat_id)
             WHERE m.author_id IS NOT NULL
             UNION ALL
             SELECT m.chat_id, {LOCAL_DAY}, r.user_id, 0, 1
             FROM reactions AS r JOIN messages AS m USING (chat_id, message_id)
             JOIN chats AS c USING (chat_id)) AS both_kinds
       GROUP BY 1, 2, 3""",
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
    op.create_table(
        "message_reactions",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("emoji", sa.String(64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_id", sa.BigInteger()),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "message_id", "emoji"),
    )
    op.create_index("ix_message_reactions_chat_sent", "message_reactions", ["chat_id", "sent_at"])
    op.create_table(
        "message_reaction_totals",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author_id", sa.BigInteger()),
        sa.Column("reactions", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "message_id"),
    )
    op.create_index(
        "ix_message_reaction_totals_day",
        "message_reaction_totals",
        ["chat_id", "day", sa.text("reactions DESC"), "message_id"],
    )
    op.create_table(
        "reaction_emoji_daily",
        *_chat_day(),
        sa.Column("emoji", sa.String(64), nullable=False),
        *_counts("count"),
        sa.PrimaryKeyConstraint("chat_id", "day", "emoji"),
    )
    op.create_table(
        "user_reactions_daily",
        *_chat_day(),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        *_counts("received", "given"),
        sa.PrimaryKeyConstraint("chat_id", "day", "user_id"),
    )
    op.create_table(
        "chat_words_daily",
        *_chat_day(),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("word", sa.Text(), nullable=False),
        *_counts("count"),
        sa.PrimaryKeyConstraint("chat_id", "day", "language", "word"),
    )
    op.create_table(
        "chat_hashtags_daily",
        *_chat_day(),
        sa.Column("tag", sa.Text(), nullable=False),
        *_counts("count"),
        sa.PrimaryKeyConstraint("chat_id", "day", "tag"),
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
