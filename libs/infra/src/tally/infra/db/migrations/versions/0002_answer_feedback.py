"""Feedback (👍/👎) on answers, kept on the questions log row.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("questions", sa.Column("feedback", sa.String(8)))
    op.add_column("questions", sa.Column("feedback_at", sa.DateTime(timezone=True)))


def downgrade() -> None:
    op.drop_column("questions", "feedback_at")
    op.drop_column("questions", "feedback")
