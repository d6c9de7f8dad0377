"""Ingest's broker and ASGI app, made by factories (tests start the broker in-process)."""

import structlog
from faststream.asgi import AsgiFastStream
from faststream.nats import NatsBroker
from prometheus_client import CollectorRegistry
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.chatstore.write.lease import ChatLease
from tally.chatstore.write.retention import RetentionSchedule
from tally.chatstore.write.writer import ChatWriter
from tally.contracts.subjects import Subjects
from tally.infra.db.session import create_engine
from tally.ingest.backlog import poller
from tally.ingest.chat_consumer import create_chat_router
from tally.ingest.config import IngestSettings
from tally.ingest.handlers import create_router
from tally.ingest.metrics import IngestMetrics
from tally.ingest.store import database_answers
from tally.runtime.broker import create_app as create_common_app
from tally.runtime.broker import create_broker

SERVICE = "ingest"
log = structlog.get_logger(__name__)


def create_database_engine(settings: IngestSettings) -> AsyncEngine:
    """The connection pool ingest writes through (``db_pool_size`` + ``db_max_overflow``)."""
    return create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_timeout_s,
    )


def create_broker_for(
    settings: IngestSettings,
    *,
    engine: AsyncEngine,
    registry: CollectorRegistry | None = None,
    writer: ChatWriter | None = None,
    metrics: IngestMetrics | None = None,
    lease: ChatLease | None = None,
) -> NatsBroker:
    """A broker carrying ingest's consumers (the streams must exist before it starts); chat
    events are written by ``writer`` (a new ChatWriter on ``engine`` when None), counted in
    ``metrics`` (new ones in ``registry`` when None), while ``lease`` is held when given."""
    broker = create_broker(settings, service=SERVICE, registry=registry)
    if metrics is None:
        metrics = IngestMetrics(registry if registry is not None else CollectorRegistry())
    broker.include_router(create_router(settings, engine=engine, metrics=metrics))
    chats = writer if writer is not None else ChatWriter(engine)
    broker.include_router(create_chat_router(settings, writer=chats, metrics=metrics, lease=lease))
    return broker


def create_app(settings: IngestSettings) -> AsgiFastStream:
    """The ingest process: consumers, /metrics (with the consumers' backlog polled in the
    background), chat retention on a schedule, /health and /health/ready (NATS and
    database)."""
    registry = CollectorRegistry()
    metrics = IngestMetrics(registry)
    engine = create_database_engine(settings)
    writer = ChatWriter(engine)
    subjects = Subjects(settings.subject_prefix)
    lease = ChatLease(subjects.ingest_lease_bucket, ttl_s=settings.chat_lease_ttl_s)
    broker = create_broker_for(
        settings, engine=engine, registry=registry, writer=writer, metrics=metrics, lease=lease
    )
    start_polling, stop_polling = poller(settings, metrics)
    retention = RetentionSchedule(
        engine=engine, subjects=subjects, lease=lease, interval_s=settings.retention_interval_s
    )

    async def database_ready() -> bool:
        return await database_answers(engine, timeout_s=settings.db_timeout_s)

    async def log_messages_layout() -> None:
        try:
            await writer.layout()  # logs "messages: partitioned table" (or hypertable)
        except (SQLAlchemyError, OSError) as error:
            log.warning("messages layout not known yet: the first batch will tell", error=error)

    async def take_lease() -> None:
        await lease.start(broker.config.connection_state.stream)

    async def start_retention() -> None:
        retention.start(broker.config.connection_state.stream)

    async def shutdown() -> None:
        await engine.dispose()

    return create_common_app(
        broker,
        settings,
        registry=registry,
        ready_checks=[database_ready],
        after_startup=[log_messages_layout, take_lease, start_retention, start_polling],
        on_shutdown=[retention.stop, lease.stop, stop_polling],
        after_shutdown=[shutdown],
    )
