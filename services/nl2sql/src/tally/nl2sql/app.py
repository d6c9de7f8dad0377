"""nl2sql's broker and app, built from settings."""

from faststream.asgi import AsgiFastStream
from faststream.nats import NatsBroker
from prometheus_client import CollectorRegistry

from tally.nl2sql.config import Nl2sqlSettings
from tally.nl2sql.deps import provide
from tally.nl2sql.handlers import SERVICE, create_router
from tally.nl2sql.llm import LlmEngine, build_engine
from tally.nl2sql.metrics import Nl2sqlMetrics
from tally.runtime.broker import create_app as create_service_app
from tally.runtime.broker import create_broker
from tally.runtime.metrics import AnswerMetrics


def create_broker_for(
    settings: Nl2sqlSettings,
    *,
    registry: CollectorRegistry | None = None,
    llm: LlmEngine | None = None,
) -> NatsBroker:
    """A broker with nl2sql's router; metrics go to ``registry`` (a fresh one when None).

    ``llm`` reads the questions the parser refuses; when None, one is built from the
    settings if they configure an LLM (see :class:`Nl2sqlSettings`).
    """
    registry = registry or CollectorRegistry()
    llm = llm or build_engine(settings, registry)
    broker = create_broker(settings, service=SERVICE, registry=registry)
    metrics, answered = Nl2sqlMetrics(registry), AnswerMetrics(registry)
    provide(broker, settings=settings, metrics=metrics, answered=answered, llm=llm)
    # Several questions in flight when a slow LLM may hold one; one at a time otherwise.
    workers = None if llm is None else settings.llm_concurrency
    broker.include_router(create_router(settings.subject_prefix, workers=workers))
    return broker


def create_app(settings: Nl2sqlSettings) -> AsgiFastStream:
    """The nl2sql process: broker, /metrics and /health (ready = NATS answers); the LLM
    client's connections are closed on shutdown."""
    registry = CollectorRegistry()
    llm = build_engine(settings, registry)
    broker = create_broker_for(settings, registry=registry, llm=llm)
    shutdown = [llm.close] if llm else []
    return create_service_app(broker, settings, registry=registry, on_shutdown=shutdown)
