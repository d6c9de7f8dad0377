"""The ``tally_llm`` role: what SQL written by a language model may read.

The executor runs LLM-written SQL (``SqlProposed``, after the SQL firewall) on a pool of its
own logged in as ``tally_llm``, which may SELECT ``videos`` and ``video_snapshots`` and nothing
else: not the chat tables, the questions log, the bot users or the alerts. Behind the firewall,
this is the wall a bypass meets. Built-in plans keep running as ``tally_reader`` (the chat
tables, each plan scoped to the asking group) and the admins' reports as ``tally_ops``.

The role logs in without a password, like the others (trust or peer authentication: the
embedded server, CI); where PostgreSQL asks for one, deploy/postgres/initdb creates the role
with a password first (this migration keeps an existing role), or run
``ALTER ROLE tally_llm PASSWORD '…'``. A role this migration creates also defaults to
read-only transactions when its client sets nothing.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

LLM = "tally_llm"
READABLE = ("videos", "video_snapshots")


def upgrade() -> None:
    # Roles are cluster-wide: create it once, grant it SELECT in this database only.
    op.execute(
        f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{LLM}') THEN
                CREATE ROLE {LLM} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
                ALTER ROLE {LLM} SET default_transaction_read_only = on;
            END IF;
        END $$
        """
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {LLM}")
    op.execute(f"GRANT SELECT ON {', '.join(READABLE)} TO {LLM}")


def downgrade() -> None:
    op.execute(f"REVOKE ALL ON {', '.join(READABLE)} FROM {LLM}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {LLM}")
