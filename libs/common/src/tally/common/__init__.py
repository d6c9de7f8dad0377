"""Shared code of every Tally service: events, subjects, settings, telemetry, database."""
