"""nl2sql's broker and app, built from settings."""

from faststream.asgi import AsgiFastStream
from faststream.nats import NatsBroker
from prometheus_client import CollectorRegistry

from tally.common.broker import create_app as create_service_app
from tally.common.broker import create_broker
from tally.nl2sql.config import Nl2sqlSettings
from tally.nl2sql.handlers import SERVICE, Nl2sqlMetrics, create_router


def create_broker_for(
    settings: Nl2sqlSettings, *, registry: CollectorRegistry | None = None
) -> NatsBroker:
    """A broker with nl2sql's router; metrics go to ``registry`` (a fresh one when None)."""
    registry = registry or CollectorRegistry()
    broker = create_broker(settings, service=SERVICE, registry=registry)
    broker.include_router(create_router(settings, Nl2sqlMetrics(registry)))
    return broker


def create_app(settings: Nl2sqlSettings) -> AsgiFastStream:
    """The nl2sql process: broker, /metrics and /health (ready = NATS answers)."""
    registry = CollectorRegistry()
    broker = create_broker_for(settings, registry=registry)
    return create_service_app(broker, settings, registry=registry)
