"""Rollups for the reply report's top pairs and median delay, so it reads months, not every
pair and every delay of the period.

The reply report grouped one ``reply_pairs_daily`` row per pair per day of the period
(226,093 rows into 97,369 pairs for the busiest chat of the 10M-message bench over 90 days)
and sorted every delay of the period (231,824). These tables let it read whole months plus
at most 15 days at each end (``tally.chatstore.read.monthly``), and only the delays near the
median:

* ``reply_pairs_monthly`` (chat, month, replier (0: anonymous), replied-to author):
  ``reply_pairs_daily`` summed by month; ``ix_reply_pairs_monthly_top`` (chat, month, replies
  descending; replier, author) gives each month's busiest pairs, from which the report takes
  the period's top with a bound (``tally.chatstore.read.replies``), exactly.
* ``reply_delays_daily`` (chat, delay bucket, local day, delay in seconds): the number of
  replies sent that day with exactly that delay (``messages.reply_delay_s``, the replies
  whose original ingest found), keyed by bucket first, so that the delays of one bucket over
  a period are one index range.
* ``reply_delay_buckets_daily`` (chat, local day, bucket) and ``reply_delay_buckets_monthly``
  (chat, month, bucket): the same replies counted by bucket. The report finds the bucket
  holding the median from these, then the median itself among that bucket's delays.

A delay's bucket is the lower bound, in whole seconds, of a range of delays: below 64 s each
whole second is its own bucket; above, the whole seconds with their 6 leading bits kept (so
a bucket spans 1/64 to 1/32 of the delays in it: 64-65 s, 126-127 s, 999,424-1,015,807 s).
Ingest computes it with ``tally.chatstore.write.rollup_statements.delay_bucket``, the same
function as :data:`BUCKET` here (a test checks both on the same delays).

Ingest keeps the four tables in the batch's transaction with the other rollups (only replies
it inserted count, so a redelivered batch adds nothing). Existing rows are backfilled: the
monthly pairs from ``reply_pairs_daily``, the delays from the replies still stored (days whose
raw rows retention deleted stay uncounted; ``tally replay --rebuild`` recounts from the
stream), the buckets from the delays.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

READER = "tally_reader"
LOCAL_DAY = "(m.sent_at AT TIME ZONE c.timezone)::date"
_WHOLE = "floor(m.reply_delay_s)::bigint"
_SHIFT = f"greatest(length(ltrim({_WHOLE}::bit(64)::text, '0')) - 6, 0)"
BUCKET = f"({_WHOLE} >> {_SHIFT}) << {_SHIFT}"
"""The bucket of ``m.reply_delay_s``: its whole seconds with all but their 6 leading bits
cleared (the bit length of the whole seconds, less 6, is how many low bits are cleared)."""
RECOUNTS = {
    "reply_pairs_monthly": """SELECT chat_id, date_trunc('month', day)::date, user_id,
                                     replied_user_id, sum(replies)
                              FROM reply_pairs_daily GROUP BY 1, 2, 3, 4""",
    "reply_delays_daily": f"""SELECT m.chat_id, {BUCKET}, {LOCAL_DAY}, m.reply_delay_s, count(*)
                              FROM messages AS m JOIN chats AS c USING (chat_id)
                              WHERE m.reply_delay_s IS NOT NULL GROUP BY 1, 2, 3, 4""",
    "reply_delay_buckets_daily": """SELECT chat_id, day, bucket, sum(replies)
                                    FROM reply_delays_daily GROUP BY 1, 2, 3""",
    "reply_delay_buckets_monthly": """SELECT chat_id, date_trunc('month', day)::date, bucket,
                                             sum(replies)
                                      FROM reply_delay_buckets_daily GROUP BY 1, 2, 3""",
}
"""What each table's rows (its columns in order) must equal: the backfill, and the tests."""
TABLES = tuple(RECOUNTS)
BACKFILL = tuple(f"INSERT INTO {table}\n{recount}" for table, recount in RECOUNTS.items())


def _chat() -> sa.Column[int]:
    return sa.Column("chat_id", sa.BigInteger(), nullable=False)


def _count() -> sa.Column[int]:
    return sa.Column("replies", sa.BigInteger(), nullable=False, server_default="0")


def _key(*names: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*names, postgresql_include=["replies"])


def upgrade() -> None:
    op.create_table(
        "reply_pairs_monthly",
        _chat(),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("replied_user_id", sa.BigInteger(), nullable=False),
        _count(),
        _key("chat_id", "month", "user_id", "replied_user_id"),
    )
    op.create_table(
        "reply_delays_daily",
        _chat(),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("delay_s", sa.Double(), nullable=False),
        _count(),
        _key("chat_id", "bucket", "day", "delay_s"),
    )
    op.create_table(
        "reply_delay_buckets_daily",
        _chat(),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        _count(),
        _key("chat_id", "day", "bucket"),
    )
    op.create_table(
        "reply_delay_buckets_monthly",
        _chat(),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("bucket", sa.BigInteger(), nullable=False),
        _count(),
        _key("chat_id", "month", "bucket"),
    )
    op.create_index(
        "ix_reply_pairs_monthly_top",
        "reply_pairs_monthly",
        ["chat_id", "month", sa.text("replies DESC")],
        postgresql_include=["user_id", "replied_user_id"],
    )
    for statement in BACKFILL:
        op.execute(statement)
    op.execute(f"GRANT SELECT ON {', '.join(TABLES)} TO {READER}")


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
