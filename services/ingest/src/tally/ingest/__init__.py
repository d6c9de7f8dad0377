"""Tally ingest: the one service that writes to PostgreSQL.

It consumes video batches (stream VIDEO_STATS), the activity record (answers and users seen,
stream ACTIVITY) and group-chat events (stream CHAT_EVENTS, with their rollups) from durable
JetStream pull consumers, and upserts them idempotently: one package per stream
(:mod:`.videos`, :mod:`.activity`, :mod:`.chats`), each with its handlers, its writes and its
pure ``domain``; :mod:`.app` makes the broker and puts what handlers take in its context
(:mod:`.deps`); :mod:`.delivery` settles what could not be stored. ``tally replay`` and ``tally
retention`` write through the same code (:mod:`tally.chatstore.write.writer`).
"""
