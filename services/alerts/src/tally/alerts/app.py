"""The alerts service's broker and app."""

import asyncio

from faststream.asgi import AsgiFastStream
from faststream.nats import NatsBroker
from prometheus_client import CollectorRegistry

from tally.alerts.config import AlertsSettings
from tally.alerts.handlers import SERVICE, FailureRateMonitor, create_router
from tally.common.broker import create_app as create_service_app
from tally.common.broker import create_broker


def create_broker_for(
    settings: AlertsSettings, *, registry: CollectorRegistry | None = None
) -> tuple[NatsBroker, FailureRateMonitor]:
    """A broker with the alerts router, and the monitor it feeds."""
    registry = registry or CollectorRegistry()
    broker = create_broker(settings, service=SERVICE, registry=registry)
    monitor = FailureRateMonitor(settings, registry)
    broker.include_router(create_router(monitor))
    return broker, monitor


def create_app(settings: AlertsSettings) -> AsgiFastStream:
    """The alerts process: broker, periodic rule checks, /metrics and /health."""
    registry = CollectorRegistry()
    broker, monitor = create_broker_for(settings, registry=registry)
    tasks: set[asyncio.Task[None]] = set()

    async def start_checks() -> None:
        tasks.add(asyncio.create_task(monitor.run_checks(broker)))

    async def stop_checks() -> None:
        for task in tasks:
            task.cancel()

    return create_service_app(
        broker, settings, registry=registry, after_startup=[start_checks], on_shutdown=[stop_checks]
    )
