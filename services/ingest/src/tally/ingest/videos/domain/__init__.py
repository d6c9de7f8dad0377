"""Pure logic of the video import: batches in, table rows out (no broker, no database)."""
