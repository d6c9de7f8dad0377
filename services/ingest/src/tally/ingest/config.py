"""Ingest's settings (environment variables, see :class:`IngestSettings`)."""

from pydantic import Field

from tally.infra.settings import CommonSettings


class IngestSettings(CommonSettings):
    """Settings of the ingest service.

    ``retry_delay_s``: how long JetStream waits before redelivering a message whose write
    failed for a reason that may pass (database down, snapshots before their video);
    ``max_deliveries``: after that many deliveries such a message is dead-lettered instead;
    ``chat_batch_size``: chat events fetched per batch;
    ``chat_write_connections``: the transactions a batch is split into, by chat, and written
    in at once (``ChatWriter.ways``; 1: one transaction per batch);
    ``reorder_delay_s``: how long chat events that would overtake older unacknowledged ones
    wait before they are redelivered (see ``tally.ingest.chats.order.StreamOrder``).
    ``consumer_poll_s``: how often the consumers' backlog gauges are read from JetStream.
    """

    db_pool_size: int = Field(default=5, ge=1)
    db_max_overflow: int = Field(default=5, ge=0)
    db_timeout_s: float = Field(default=10.0, gt=0)
    retry_delay_s: float = Field(default=5.0, ge=0)
    max_deliveries: int = Field(default=20, ge=1)
    chat_batch_size: int = Field(default=2000, ge=1, le=10_000)
    chat_write_connections: int = Field(default=2, ge=1, le=8)
    reorder_delay_s: float = Field(default=0.2, ge=0)
    chat_lease_ttl_s: float = Field(default=6.0, gt=0)
    """How long a killed replica keeps the chat events lease (see chat_lease), seconds."""
    consumer_poll_s: float = Field(default=5.0, gt=0)
    retention_interval_s: float = Field(default=3600.0, ge=0)
    """How often the lease holder applies chat retention to the tables and CHAT_EVENTS
    (``tally.chatstore.write.retention``), seconds; 0: never (``tally retention --apply`` only)."""
