"""The ``tally_ops`` role: what the admins' /analytics, /metrics and /health read.

The executor answers those reports on a pool of its own as ``tally_ops``, so the
``tally_reader`` role that runs plans and LLM-written SQL still cannot read the questions log
(other people's questions) or the bot's users. ``tally_ops`` may SELECT the questions log,
the bot users, messages and video snapshots (ingest volume) and ``alembic_version`` (the
migration /health reports), nothing else.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

OPS = "tally_ops"
READABLE = ("questions", "bot_users", "messages", "video_snapshots", "alembic_version")


def upgrade() -> None:
    # Roles are cluster-wide: create it once, grant it SELECT in this database only.
    op.execute(
        f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{OPS}') THEN
                CREATE ROLE {OPS} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
            END IF;
        END $$
        """
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {OPS}")
    op.execute(f"GRANT SELECT ON {', '.join(READABLE)} TO {OPS}")


def downgrade() -> None:
    op.execute(f"REVOKE ALL ON {', '.join(READABLE)} FROM {OPS}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {OPS}")
