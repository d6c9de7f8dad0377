"""What every Tally service runs on: the FastStream broker and app factory (tracing, metrics,
dead letters, health), the NATS server configuration, and the service runner."""
