"""The executor's broker and app, built from settings."""

from faststream.asgi import AsgiFastStream
from faststream.nats import NatsBroker
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.common.broker import create_app as create_service_app
from tally.common.broker import create_broker
from tally.common.subjects import Subjects
from tally.executor.config import ExecutorSettings
from tally.executor.handlers import SERVICE, create_router
from tally.executor.metrics import ExecutorMetrics
from tally.executor.runner import create_reader_engine, database_answers


def create_broker_for(
    settings: ExecutorSettings, engine: AsyncEngine, *, registry: CollectorRegistry | None = None
) -> NatsBroker:
    """A broker with the executor's router, running plans on ``engine``."""
    registry = registry or CollectorRegistry()
    broker = create_broker(settings, service=SERVICE, registry=registry)
    subjects = Subjects(settings.subject_prefix)
    broker.include_router(create_router(subjects, engine, ExecutorMetrics(registry)))
    return broker


def create_app(settings: ExecutorSettings) -> AsgiFastStream:
    """The executor process: broker, /metrics, /health (ready = NATS and PostgreSQL answer)."""
    registry = CollectorRegistry()
    engine = create_reader_engine(settings)
    broker = create_broker_for(settings, engine, registry=registry)

    async def dispose() -> None:
        await engine.dispose()

    return create_service_app(
        broker,
        registry=registry,
        ready_checks=[lambda: database_answers(engine)],
        on_shutdown=[dispose],
    )
