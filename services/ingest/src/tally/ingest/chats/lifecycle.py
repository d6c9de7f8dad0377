"""What runs beside the chat events consumer, started and stopped with the app.

The lease (:class:`~tally.chatstore.write.lease.ChatLease`) lets one replica consume chat
events; the replica holding it also applies chat retention every ``retention_interval_s``
(:class:`~tally.chatstore.write.retention.RetentionSchedule`).
"""

import structlog
from nats.js import JetStreamContext
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.chatstore.write.lease import ChatLease
from tally.chatstore.write.retention import RetentionSchedule
from tally.chatstore.write.writer import ChatWriter
from tally.contracts.subjects import Subjects
from tally.ingest.config import IngestSettings

log = structlog.get_logger(__name__)


class ChatLifecycle:
    """The chat events lease and the retention schedule of one ingest process."""

    def __init__(
        self, settings: IngestSettings, subjects: Subjects, *, engine: AsyncEngine
    ) -> None:
        self.writer = ChatWriter(engine, ways=settings.chat_write_connections)
        self.lease = ChatLease(
            subjects.ingest_lease_bucket,
            ttl_s=settings.chat_lease_ttl_s,
            replicas=settings.stream_replicas,
        )
        self.retention = RetentionSchedule(
            engine=engine,
            subjects=subjects,
            lease=self.lease,
            interval_s=settings.retention_interval_s,
        )

    async def start(self, js: JetStreamContext) -> None:
        """Log the messages table's layout, take (or wait for) the lease, start retention."""
        try:
            await self.writer.layout()  # logs "messages: partitioned table" (or hypertable)
        except (SQLAlchemyError, OSError) as error:
            log.warning("messages layout not known yet: the first batch will tell", error=error)
        await self.lease.start(js)
        self.retention.start(js)

    async def stop(self) -> None:
        """Stop retention, then give the lease up."""
        await self.retention.stop()
        await self.lease.stop()
