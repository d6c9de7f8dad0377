"""``tally_ops`` may read ``alert_history``: Grafana's "Alert history" panel (deploy/grafana,
the PostgreSQL datasource logs in as ``tally_ops``) lists what fired, resolved, was
acknowledged or silenced, and by whom. ``tally_ops`` still writes nothing and reads no
silence, watch or admin audit.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

OPS = "tally_ops"


def upgrade() -> None:
    op.execute(f"GRANT SELECT ON alert_history TO {OPS}")


def downgrade() -> None:
    op.execute(f"REVOKE SELECT ON alert_history FROM {OPS}")
