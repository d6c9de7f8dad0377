"""Pure logic of ingest: events in, table rows out (no broker, no database)."""
