"""Alerts: the history of every alert event, silences (active ones survive a restart) and
admins' data alerts (watches).

``alert_history.event`` is one of fired, resolved, acknowledged, silenced, unsilenced,
notified; ``actor_id`` is the Telegram user id of the admin who acted (null for the
engine's own events). ``alert_silences.id`` is 16 hex digits; ``ends_at`` is null for
"mute until resolved" silences; ``expired_at`` is set when a silence ends early or resolves.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

EVENTS = ("fired", "resolved", "acknowledged", "silenced", "unsilenced", "notified")


def upgrade() -> None:
    op.create_table(
        "alert_history",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fingerprint", sa.String(16), nullable=False),
        sa.Column("alertname", sa.String(64), nullable=False),
        sa.Column("labels", JSONB(), nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
        sa.CheckConstraint(
            "event IN (" + ", ".join(f"'{event}'" for event in EVENTS) + ")",
            name="ck_alert_history_event",
        ),
    )
    op.create_index("ix_alert_history_at", "alert_history", ["at"])
    op.create_index("ix_alert_history_fingerprint", "alert_history", ["fingerprint", "at"])
    op.create_table(
        "alert_silences",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("matchers", JSONB(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False, server_default=""),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("until_resolved", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "alert_watches",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=True),
        sa.Column("rule", JSONB(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.true()),
    )


def downgrade() -> None:
    op.drop_table("alert_watches")
    op.drop_table("alert_silences")
    op.drop_index("ix_alert_history_fingerprint", table_name="alert_history")
    op.drop_index("ix_alert_history_at", table_name="alert_history")
    op.drop_table("alert_history")
