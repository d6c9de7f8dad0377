"""Tally's infrastructure: settings, errors, telemetry (logs and traces), the database models,
migrations and engine, and in-memory idempotency. It imports nothing else of Tally's."""
