"""Per-member monthly counts, so a period's per-member figures read months, not days.

The users page, the tops by messages, words and reactions received, a member's rank
(``/user``) and the reaction report's received / given ranks sum one row per member per day
of the period (``user_chat_daily``, ``user_reactions_daily``): about 40,000 rows for the
busiest chat of the 10M-message bench over 90 days. With a row per member per month, a period
is its whole months plus, for a month it covers in part, the daily rows of the days it covers
or (when fewer) the month less the daily rows of the days it does not: at most 15 days of
daily rows per end, whatever the period's length.

* ``user_chat_monthly`` (0004: the day bit mask, kept by a trigger) gains ``messages`` and
  ``words``: the sums of the member's ``user_chat_daily`` rows of the month.
* ``user_reactions_monthly`` (chat, month, user): ``received`` and ``given``, the sums of the
  member's ``user_reactions_daily`` rows of the month; a row whose sums are both 0 is not
  kept (as in the daily table).
* ``user_replies_daily`` (chat, local day, user) and ``user_replies_monthly`` (chat, month,
  user): ``received``, replies sent that day (month) to the member's messages by others:
  ``reply_pairs_daily`` summed by the author replied to, for the top by replies, which
  otherwise groups every pair of the period.
* Covering indexes, so these reads are index-only scans (EXPLAIN at 10M: the summary's
  3,000 ``user_chat_monthly`` rows were spread over 1,075 heap blocks, 58 -> 4 ms; topic
  members' 10,000 ``user_topic_monthly`` rows over 4,956, 123 -> 5 ms); months no longer
  written are all-visible once autovacuum has passed. The columns they include make updates
  of those rows non-HOT (one more index entry per row ingest changes):
  ``ix_user_chat_monthly_cover`` (chat, month, user; days, messages, words),
  ``ix_user_topic_monthly_cover`` (chat, month, thread, user; days),
  ``ix_user_reactions_daily_cover`` (chat, day, user; received, given),
  ``ix_message_reaction_totals_day_cover`` (chat, day, reactions descending, message;
  sent_at, author; it replaces ``ix_message_reaction_totals_day``: each day's most reacted
  messages without a heap fetch each),
  ``ix_reply_pairs_daily_replier`` (chat, replier, day; replied-to author, replies) and
  ``ix_reply_pairs_daily_replied`` (chat, replied-to author, day; replier, replies): one
  member's reply partners (``/user``) without reading every pair of the period. The new
  tables' primary keys include their counts, for the same reason.

Ingest adds to both in the batch's transaction exactly what it adds to the daily rows
(:mod:`tally.chatstore.write.rollups`), so each monthly row always equals the sum of its
month's daily rows. Existing rows are backfilled from the daily rollups.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

READER = "tally_reader"
BACKFILL = (
    """INSERT INTO user_chat_monthly AS m (chat_id, month, user_id, messages, words)
       SELECT chat_id, date_trunc('month', day)::date, user_id, sum(messages), sum(words)
       FROM user_chat_daily GROUP BY 1, 2, 3
       ON CONFLICT (chat_id, month, user_id)
       DO UPDATE SET messages = excluded.messages, words = excluded.words""",
    """INSERT INTO user_reactions_monthly (chat_id, month, user_id, received, given)
       SELECT chat_id, date_trunc('month', day)::date, user_id, sum(received), sum(given)
       FROM user_reactions_daily GROUP BY 1, 2, 3
       HAVING sum(received) <> 0 OR sum(given) <> 0""",
    """INSERT INTO user_replies_daily (chat_id, day, user_id, received)
       SELECT chat_id, day, replied_user_id, sum(replies)
       FROM reply_pairs_daily GROUP BY 1, 2, 3""",
    """INSERT INTO user_replies_monthly (chat_id, month, user_id, received)
       SELECT chat_id, date_trunc('month', day)::date, user_id, sum(received)
       FROM user_replies_daily GROUP BY 1, 2, 3""",
)
RECOUNTS = {
    "user_chat_monthly": """SELECT chat_id, date_trunc('month', day)::date, user_id,
                                   sum(messages), sum(words)
                            FROM user_chat_daily GROUP BY 1, 2, 3""",
    "user_reactions_monthly": """SELECT chat_id, date_trunc('month', day)::date, user_id,
                                        sum(received), sum(given)
                                 FROM user_reactions_daily GROUP BY 1, 2, 3""",
    "user_replies_daily": """SELECT chat_id, day, replied_user_id, sum(replies)
                             FROM reply_pairs_daily GROUP BY 1, 2, 3""",
    "user_replies_monthly": """SELECT chat_id, date_trunc('month', day)::date, user_id,
                                      sum(received)
                               FROM user_replies_daily GROUP BY 1, 2, 3""",
}
"""What each table's ``(chat_id, day or month, user_id, <counts>)`` must equal (the
tests)."""
TABLES = ("user_reactions_monthly", "user_replies_daily", "user_replies_monthly")
INDEXES: tuple[tuple[str, str, list[str | sa.TextClause], list[str]], ...] = (
    (
        "ix_user_chat_monthly_cover",
        "user_chat_monthly",
        ["chat_id", "month", "user_id"],
        ["days", "messages", "words"],
    ),
    (
        "ix_user_topic_monthly_cover",
        "user_topic_monthly",
        ["chat_id", "month", "thread_id", "user_id"],
        ["days"],
    ),
    (
        "ix_user_reactions_daily_cover",
        "user_reactions_daily",
        ["chat_id", "day", "user_id"],
        ["received", "given"],
    ),
    (
        "ix_message_reaction_totals_day_cover",
        "message_reaction_totals",
        ["chat_id", "day", sa.text("reactions DESC"), "message_id"],
        ["sent_at", "author_id"],
    ),
    (
        "ix_reply_pairs_daily_replier",
        "reply_pairs_daily",
        ["chat_id", "user_id", "day"],
        ["replied_user_id", "replies"],
    ),
    (
        "ix_reply_pairs_daily_replied",
        "reply_pairs_daily",
        ["chat_id", "replied_user_id", "day"],
        ["user_id", "replies"],
    ),
)
"""(name, table, key columns, included columns)."""


def _counts(*names: str) -> list[sa.Column[int]]:
    return [sa.Column(name, sa.BigInteger(), nullable=False, server_default="0") for name in names]


def upgrade() -> None:
    for column in _counts("messages", "words"):
        op.add_column("user_chat_monthly", column)
    op.create_table(
        "user_reactions_monthly",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        *_counts("received", "given"),
        sa.PrimaryKeyConstraint(
            "chat_id", "month", "user_id", postgresql_include=["received", "given"]
        ),
    )
    op.create_table(
        "user_replies_daily",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        *_counts("received"),
        sa.PrimaryKeyConstraint("chat_id", "day", "user_id", postgresql_include=["received"]),
    )
    op.create_table(
        "user_replies_monthly",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        *_counts("received"),
        sa.PrimaryKeyConstraint("chat_id", "month", "user_id", postgresql_include=["received"]),
    )
    for name, table, columns, included in INDEXES:
        op.create_index(name, table, columns, postgresql_include=included)
    op.drop_index("ix_message_reaction_totals_day", table_name="message_reaction_totals")
    for statement in BACKFILL:
        op.execute(statement)
    op.execute(f"GRANT SELECT ON {', '.join(TABLES)} TO {READER}")


def downgrade() -> None:
    op.create_index(
        "ix_message_reaction_totals_day",
        "message_reaction_totals",
        ["chat_id", "day", sa.text("reactions DESC"), "message_id"],
    )
    for name, table, _, _ in INDEXES:
        op.drop_index(name, table_name=table)
    for table in reversed(TABLES):
        op.drop_table(table)
    op.drop_column("user_chat_monthly", "words")
    op.drop_column("user_chat_monthly", "messages")
