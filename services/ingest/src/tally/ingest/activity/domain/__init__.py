"""Pure logic of the activity record: events in, table rows out (no broker, no database)."""
