"""Video analytics tables (seed 000), bot users, the questions log and the read-only role.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
COUNTERS = ("views_count", "likes_count", "comments_count", "reports_count")
READER = "tally_reader"


def upgrade() -> None:
    op.create_table(
        "videos",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("creator_id", sa.String(64), nullable=False, index=True),
        sa.Column("video_created_at", TS, nullable=False, index=True),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in COUNTERS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_table(
        "video_snapshots",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("video_id", sa.Uuid(), sa.ForeignKey("videos.id"), nullable=False, index=True),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in COUNTERS),
        *(sa.Column(f"delta_{name}", sa.BigInteger(), nullable=False) for name in COUNTERS),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index(
        "ix_video_snapshots_created_at_video_id", "video_snapshots", ["created_at", "video_id"]
    )
    op.create_table(
        "bot_users",
        sa.Column("user_id", sa.BigInteger(), primary_key=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("username", sa.String(64)),
        sa.Column("first_name", sa.String(256)),
        sa.Column("last_name", sa.String(256)),
        sa.Column("language_code", sa.String(16)),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
    )
    op.create_table(
        "questions",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False, index=True),
        sa.Column("user_id", sa.BigInteger(), nullable=False, index=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False, index=True),
        sa.Column("engine", sa.String(16)),
        sa.Column("plan", postgresql.JSONB()),
        sa.Column("sql", sa.Text()),
        sa.Column("params", postgresql.JSONB()),
        sa.Column("value", sa.Float()),
        sa.Column("interpretation", sa.Text()),
        sa.Column("reason", sa.Text()),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("elapsed_ms", sa.Float(), nullable=False),
        sa.Column("total_ms", sa.Float(), nullable=False),
        sa.Column("asked_at", TS, nullable=False, index=True),
        sa.Column("answered_at", TS, nullable=False),
    )
    # Roles are cluster-wide: create the reader once, grant it SELECT in this database only.
    op.execute(
        f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{READER}') THEN
                CREATE ROLE {READER} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE;
            END IF;
        END $$
        """
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {READER}")
    op.execute(f"GRANT SELECT ON videos, video_snapshots TO {READER}")


def downgrade() -> None:
    op.execute(f"REVOKE ALL ON videos, video_snapshots FROM {READER}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {READER}")
    for table in ("questions", "bot_users", "video_snapshots", "videos"):
        op.drop_table(table)
