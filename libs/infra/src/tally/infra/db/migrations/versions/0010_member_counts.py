"""Daily member counts (issue 15): ``member_counts`` (chat, local day), the member count
Telegram reported (``getChatMemberCount``) in the day's last snapshot and when it was taken.

The gateway takes a snapshot of each group once a day and when the bot is added
(``MemberCountObserved`` on CHAT_EVENTS); ingest upserts it on the local day of the
snapshot in the chat's time zone, keeping the later one. Retention keeps the rows (a count
names nobody); ``tally replay --rebuild`` rebuilds them from the stream. Nothing to backfill:
no snapshot was taken before this migration.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

READER = "tally_reader"


def upgrade() -> None:
    op.create_table(
        "member_counts",
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "day"),
    )
    op.execute(f"GRANT SELECT ON member_counts TO {READER}")


def downgrade() -> None:
    op.drop_table("member_counts")
