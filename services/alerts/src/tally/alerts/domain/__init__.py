"""Pure alerting logic."""
