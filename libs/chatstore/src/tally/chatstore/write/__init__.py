"""The write side of the chat store: chat events into the chat tables and their rollups,
idempotently (ingest's consumer, replay), and the retention pass."""
