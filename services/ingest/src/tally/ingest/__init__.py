"""Tally ingest: the one service that writes to PostgreSQL.

It consumes video batches (stream VIDEO_STATS) and the activity record (answers and users
seen, stream ACTIVITY) from durable JetStream pull consumers, and upserts them idempotently.
"""
