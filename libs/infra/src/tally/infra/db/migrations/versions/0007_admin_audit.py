"""The audit of admin commands and alert buttons: who used which, where, and whether they
were allowed (``ADMIN_USER_IDS``).

Ingest writes it from ``AdminAuditEvent`` (subject ``{p}.users.audit``, stream ACTIVITY);
``id`` is the event's id, so a redelivered event is stored once. ``command`` is a bounded name
(the command without ``/``, or ``button:<action>``); ``chat_id`` is null for a press under an
inline message. No role but the owner reads it: ``tally_reader`` and ``tally_ops`` get nothing.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "admin_audit",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=True),
        sa.Column("command", sa.String(32), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
    )
    op.create_index("ix_admin_audit_at", "admin_audit", ["at"])
    op.create_index("ix_admin_audit_user_id_at", "admin_audit", ["user_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_admin_audit_user_id_at", table_name="admin_audit")
    op.drop_index("ix_admin_audit_at", table_name="admin_audit")
    op.drop_table("admin_audit")
