"""Tally ingest: the one service that writes to PostgreSQL.

It consumes video batches (stream VIDEO_STATS), the activity record (answers and users seen,
stream ACTIVITY) and group-chat events (stream CHAT_EVENTS, with their rollups) from durable
JetStream pull consumers, and upserts them idempotently. ``tally replay`` and ``tally
retention`` write through the same code (:mod:`tally.chatstore.write.writer`).
"""
