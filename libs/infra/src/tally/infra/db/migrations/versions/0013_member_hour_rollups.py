"""Each member's messages by local hour, so ``/user``'s favourite hours read months, not
messages; and ``user_chat_daily``'s primary key includes its counts.

The favourite hours grouped the member's messages of the period by local hour: 16,000 index
entries for the busiest member of the 10M-message bench over 90 days (17 ms warm, 33 ms
cold, the slowest of ``member_stats``' statements). With a row per member, local day and
local hour, and one per member, month and local hour, a period reads its whole months (24
rows each at most) plus at most 15 days of daily rows at each end
(:mod:`tally.chatstore.read.monthly`).

* ``user_hours_daily`` (chat, user, local day, local hour): messages the member sent;
* ``user_hours_monthly`` (chat, user, month, local hour): the sums of the month's daily rows.

The local day and hour are those of ``sent_at`` in the chat's time zone, as every other
rollup's day (a settings change applies to the messages after it). Messages without a
sender are not counted. Both primary keys lead with the member and include the count, so a
member's rows are one index-only range.

``user_chat_daily``'s primary key (chat, local day, user) now includes ``messages`` and
``words``: a member's rank (``/user``) sums every member's messages of the period, and the
days at its ends (up to 15 each) came from the heap, one block per row (EXPLAIN at 1M: 711
rows of two days in 649 blocks, 13.5 of the statement's 18 ms cold). Now an index-only scan
(9 blocks); the users page and the tops read the same rows. Likewise
``reaction_emoji_daily``'s key (chat, local day, emoji) includes ``count``: the reaction
report's emoji read 360 rows of the period from 178 heap blocks (3.7 ms cold at 10M). The
cost: an update of a row's counts by ingest is no longer HOT (one more entry in each of the
table's indexes).

``ix_user_chat_monthly_cover`` (0012) is rebuilt: the rank reads every member's rows of the
period's months from it, and 0012 created it before updating every row of the table (its
counts' backfill), leaving dead entries in half-empty pages; on a database whose
``user_chat_monthly`` was filled in bulk (the dashboard bench: each ``user_chat_daily`` row
inserted updates its month's mask) it held 8,169 pages for 101,544 rows (1M messages), and
the 1,500 rows of one chat's three months took 464 page reads. At 10M, rebuilt: 985 pages,
and ``/user``'s statement read 113 pages where it read 1,064 (EXPLAIN after the bench's
floor query). The pages of past months are not
updated again, so this holds for them; the current month's grow as ingest updates its rows.

Ingest adds to both in the batch's transaction for each message it inserted
(:mod:`tally.chatstore.write.rollups`). Existing rows are backfilled from the messages
stored (a chat's retention has deleted older ones: their hours are not counted).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

READER = "tally_reader"
LOCAL = "(m.sent_at AT TIME ZONE c.timezone)"
BACKFILL = (
    f"""INSERT INTO user_hours_daily (chat_id, user_id, day, hour, messages)
        SELECT m.chat_id, m.user_id, {LOCAL}::date, extract(hour FROM {LOCAL})::smallint,
               count(*)
        FROM messages AS m JOIN chats AS c USING (chat_id)
        WHERE m.user_id IS NOT NULL
        GROUP BY 1, 2, 3, 4""",
    """INSERT INTO user_hours_monthly (chat_id, user_id, month, hour, messages)
       SELECT chat_id, user_id, date_trunc('month', day)::date, hour, sum(messages)
       FROM user_hours_daily GROUP BY 1, 2, 3, 4""",
)
RECOUNTS = {
    "user_hours_daily": f"""SELECT m.chat_id, m.user_id, {LOCAL}::date,
                                   extract(hour FROM {LOCAL})::smallint, count(*)
                            FROM messages AS m JOIN chats AS c USING (chat_id)
                            WHERE m.user_id IS NOT NULL
                            GROUP BY 1, 2, 3, 4""",
    "user_hours_monthly": """SELECT chat_id, user_id, date_trunc('month', day)::date, hour,
                                    sum(messages)
                             FROM user_hours_daily GROUP BY 1, 2, 3, 4""",
}
"""What each table's rows must equal (the tests): the daily from the raw messages, the
monthly from the daily."""
TABLES = ("user_hours_daily", "user_hours_monthly")


KEYS = {
    "user_chat_daily": ("chat_id, day, user_id", "messages, words"),
    "reaction_emoji_daily": ("chat_id, day, emoji", "count"),
}
"""Tables whose primary key (key columns, then the columns it comes to include) includes
their counts."""


def _keys(*, included: bool) -> None:
    for table, (columns, counts) in KEYS.items():
        include = f" INCLUDE ({counts})" if included else ""
        op.execute(
            f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey,"
            f" ADD CONSTRAINT {table}_pkey PRIMARY KEY ({columns}){include}"
        )


def upgrade() -> None:
    for table, period in zip(TABLES, ("day", "month"), strict=True):
        op.create_table(
            table,
            sa.Column("chat_id", sa.BigInteger(), nullable=False),
            sa.Column("user_id", sa.BigInteger(), nullable=False),
            sa.Column(period, sa.Date(), nullable=False),
            sa.Column("hour", sa.SmallInteger(), nullable=False),
            sa.Column("messages", sa.BigInteger(), nullable=False, server_default="0"),
            sa.PrimaryKeyConstraint(
                "chat_id", "user_id", period, "hour", postgresql_include=["messages"]
            ),
        )
    for statement in BACKFILL:
        op.execute(statement)
    op.execute(f"GRANT SELECT ON {', '.join(TABLES)} TO {READER}")
    _keys(included=True)
    op.execute("REINDEX INDEX ix_user_chat_monthly_cover")


def downgrade() -> None:
    _keys(included=False)
    for table in reversed(TABLES):
        op.drop_table(table)
