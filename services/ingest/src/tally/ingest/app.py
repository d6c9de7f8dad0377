"""Ingest's broker and ASGI app, made by factories (tests start the broker in-process).

Each stream has its package and router (:mod:`.videos`, :mod:`.activity`, :mod:`.chats`);
what their handlers take (settings, subjects, engine, metrics, the chat writer) is put in
the broker's context here, once (see :mod:`.deps`).
"""

import asyncio

from faststream.asgi import AsgiFastStream
from faststream.nats import NatsBroker
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.chatstore.write.lease import ChatLease
from tally.chatstore.write.writer import ChatWriter
from tally.contracts.subjects import Subjects
from tally.infra.db.session import create_engine
from tally.ingest import deps
from tally.ingest.activity.handlers import create_router as activity_router
from tally.ingest.backlog import poller
from tally.ingest.chats.handlers import CONSUMER, ChatConsumer
from tally.ingest.chats.handlers import create_router as chats_router
from tally.ingest.chats.handlers import provide as provide_chats
from tally.ingest.chats.lifecycle import ChatLifecycle
from tally.ingest.config import IngestSettings
from tally.ingest.metrics import IngestMetrics
from tally.ingest.videos.handlers import create_router as videos_router
from tally.runtime.broker import create_app as create_common_app
from tally.runtime.broker import create_broker, subjects_of

SERVICE = "ingest"


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
    events are written by ``writer`` (when None, a new ChatWriter on ``engine``, split
    ``chat_write_connections`` ways), counted in ``metrics`` (new ones in ``registry`` when
    None), while ``lease`` is held when given."""
    broker = create_broker(settings, service=SERVICE, registry=registry)
    if metrics is None:
        metrics = IngestMetrics(registry if registry is not None else CollectorRegistry())
    subjects = subjects_of(broker)
    deps.provide(
        broker.context, settings=settings, subjects=subjects, engine=engine, metrics=metrics
    )
    consumer = ChatConsumer()
    writer = writer or ChatWriter(engine, ways=settings.chat_write_connections)
    provide_chats(broker.context, writer=writer, subjects=subjects, consumer=consumer)
    broker.include_router(videos_router(subjects))
    broker.include_router(activity_router(subjects))
    broker.include_router(chats_router(subjects, settings, consumer, lease=lease))
    return broker


async def stop_chat_consumer(broker: NatsBroker) -> None:
    """Stop ``broker``'s chat events subscriber and wait for its batch in flight to be
    settled (committed and acknowledged, or nak'ed): before ``broker.stop()``, which would
    close the connection its acknowledgements need."""
    consumer: ChatConsumer = broker.context.get(CONSUMER)
    await consumer.stop()


async def database_answers(engine: AsyncEngine, *, timeout_s: float) -> bool:
    """True when ``SELECT 1`` succeeds within ``timeout_s`` seconds (readiness check)."""
    try:
        async with asyncio.timeout(timeout_s), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except (OSError, TimeoutError, SQLAlchemyError):
        return False
    return True


def create_app(settings: IngestSettings) -> AsgiFastStream:
    """The ingest process: consumers, /metrics (with the consumers' backlog polled in the
    background), chat retention on a schedule, /health and /health/ready (NATS and
    database)."""
    registry = CollectorRegistry()
    metrics = IngestMetrics(registry)
    engine = create_database_engine(settings)
    subjects = Subjects(settings.subject_prefix)
    chat_lifecycle = ChatLifecycle(settings, subjects, engine=engine)
    broker = create_broker_for(
        settings,
        engine=engine,
        registry=registry,
        writer=chat_lifecycle.writer,
        metrics=metrics,
        lease=chat_lifecycle.lease,
    )
    start_polling, stop_polling = poller(settings, subjects, metrics)

    async def database_ready() -> bool:
        return await database_answers(engine, timeout_s=settings.db_timeout_s)

    async def stop_chats() -> None:
        await stop_chat_consumer(broker)

    async def start_chat_lifecycle() -> None:
        await chat_lifecycle.start(broker.config.connection_state.stream)

    async def shutdown() -> None:
        await engine.dispose()

    return create_common_app(
        broker,
        settings,
        registry=registry,
        ready_checks=[database_ready],
        after_startup=[start_chat_lifecycle, start_polling],
        on_shutdown=[stop_chats, chat_lifecycle.stop, stop_polling],
        after_shutdown=[shutdown],
    )
