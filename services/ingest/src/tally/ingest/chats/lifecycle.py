"""What runs beside the chat events consumer, started and stopped with the app.

The lease (:class:`~tally.chatstore.write.lease.ChatLease`) lets one replica consume chat
events; the replica holding it also applies chat retention every ``retention_interval_s``
(:class:`~tally.chatstore.write.retention.RetentionSchedule`). At start the durable chat
events consumer gets the settings this process runs with (:func:`reconcile_consumer`).
"""

import structlog
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.chatstore.write.lease import ChatLease
from tally.chatstore.write.retention import RetentionSchedule
from tally.chatstore.write.writer import ChatWriter
from tally.contracts.subjects import CHATS_DURABLE, Subjects
from tally.ingest.chats.handlers import max_ack_pending
from tally.ingest.config import IngestSettings

log = structlog.get_logger(__name__)


async def reconcile_consumer(
    js: JetStreamContext, stream: str, durable: str, *, limit: int
) -> bool:
    """Give the durable consumer ``durable`` of ``stream``, when it exists, ``limit`` as its
    ``max_ack_pending``: nats-py's ``pull_subscribe`` (under FastStream's subscriber) sets a
    consumer's config only when it creates it, so a changed ``CHAT_BATCH_SIZE`` would
    otherwise keep the first limit. JetStream updates an existing consumer in place when
    created again with the same name and an edited field. True when it changed the consumer;
    raises what JetStream's API raises (``nats.js.errors.Error``, timeouts)."""
    try:
        info = await js.consumer_info(stream, durable)
    except NotFoundError:
        return False  # the subscriber creates it with ``limit``
    if info.config.max_ack_pending == limit:
        return False
    await js.add_consumer(stream, config=info.config.evolve(max_ack_pending=limit))
    log.info(
        "consumer updated",
        consumer=durable,
        max_ack_pending=limit,
        was=info.config.max_ack_pending,
    )
    return True


class ChatLifecycle:
    """The chat events lease and the retention schedule of one ingest process."""

    def __init__(
        self, settings: IngestSettings, subjects: Subjects, *, engine: AsyncEngine
    ) -> None:
        self.stream = subjects.chat_events_stream
        self.max_ack_pending = max_ack_pending(settings)
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
        """Log the messages table's layout, update the chat events consumer's settings (see
        :func:`reconcile_consumer`), take (or wait for) the lease, start retention."""
        try:
            await self.writer.layout()  # logs "messages: partitioned table" (or hypertable)
        except (SQLAlchemyError, OSError) as error:
            log.warning("messages layout not known yet: the first batch will tell", error=error)
        await reconcile_consumer(js, self.stream, CHATS_DURABLE, limit=self.max_ack_pending)
        await self.lease.start(js)
        self.retention.start(js)

    async def stop(self) -> None:
        """Stop retention, then give the lease up."""
        await self.retention.stop()
        await self.lease.stop()
