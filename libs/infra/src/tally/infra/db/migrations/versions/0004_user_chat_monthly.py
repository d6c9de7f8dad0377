"""user_chat_monthly: each member's active local days of a month, as a bit mask.

Counting distinct members over a period from ``user_chat_daily`` groups one row per member
per active day (about 80,000 rows for a busy chat over a half-year comparison). One row per
member per month, bit ``d - 1`` set when they posted on local day ``d``, answers the same
counts exactly from a few thousand rows, and the sum of DAU as the set bits.

A trigger on ``user_chat_daily`` keeps it in ingest's transaction: a (chat, day, user) row
that gets its first message sets that day's bit. Rows are only ever added to masks (as
rollups keep counting messages whose raw rows retention deleted); ``TRUNCATE`` of the
rollups (replay ``--rebuild``) must name this table too. Existing rollups are backfilled.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

READER = "tally_reader"


def upgrade() -> None:
    op.create_table(
        "user_chat_monthly",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("chat_id", "month", "user_id"),
    )
    op.execute(
        """
        CREATE FUNCTION tally_mark_active_day() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO user_chat_monthly AS m (chat_id, month, user_id, days)
            VALUES (NEW.chat_id, date_trunc('month', NEW.day)::date, NEW.user_id,
                    1 << (extract(day FROM NEW.day)::int - 1))
            ON CONFLICT (chat_id, month, user_id) DO UPDATE SET days = m.days | excluded.days;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER user_chat_monthly_on_insert AFTER INSERT ON user_chat_daily"
        " FOR EACH ROW WHEN (NEW.messages > 0) EXECUTE FUNCTION tally_mark_active_day()"
    )
    op.execute(
        "CREATE TRIGGER user_chat_monthly_on_update AFTER UPDATE ON user_chat_daily"
        " FOR EACH ROW WHEN (OLD.messages <= 0 AND NEW.messages > 0)"
        " EXECUTE FUNCTION tally_mark_active_day()"
    )
    op.execute(
        "INSERT INTO user_chat_monthly (chat_id, month, user_id, days)"
        " SELECT chat_id, date_trunc('month', day)::date, user_id,"
        " bit_or(1 << (extract(day FROM day)::int - 1))"
        " FROM user_chat_daily WHERE messages > 0 GROUP BY 1, 2, 3"
    )
    op.execute(f"GRANT SELECT ON user_chat_monthly TO {READER}")


def downgrade() -> None:
    op.execute("DROP TRIGGER user_chat_monthly_on_update ON user_chat_daily")
    op.execute("DROP TRIGGER user_chat_monthly_on_insert ON user_chat_daily")
    op.execute("DROP FUNCTION tally_mark_active_day()")
    op.drop_table("user_chat_monthly")
