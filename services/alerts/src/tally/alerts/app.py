"""The alerts service's broker and app: the engine, its store, the evaluation loop."""

import asyncio
from dataclasses import dataclass, field

import structlog
from faststream.asgi import AsgiFastStream
from faststream.nats import NatsBroker
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.alerts import watches
from tally.alerts.config import AlertsSettings
from tally.alerts.digests import DigestMetrics, DigestScheduler
from tally.alerts.engine import AlertEngine, MeasureReader
from tally.alerts.handlers import SERVICE, create_router, provide
from tally.alerts.reloading import RulesSource
from tally.alerts.retention import run_history_retention
from tally.alerts.runner import AlertMetrics, Evaluation
from tally.alerts.store import AlertStore
from tally.contracts.events import utcnow
from tally.infra.db.session import create_engine
from tally.runtime.broker import create_app as create_service_app
from tally.runtime.broker import create_broker, subjects_of

log = structlog.get_logger(__name__)


@dataclass
class AlertsService:
    """The engine and what runs it; :meth:`start` after the broker, :meth:`stop` before."""

    engine: AlertEngine
    evaluation: Evaluation
    store: AlertStore
    database: AsyncEngine
    measures: AsyncEngine
    broker: NatsBroker
    digests: DigestScheduler
    tasks: set["asyncio.Task[None]"] = field(default_factory=set)

    async def start(self) -> None:
        """Load silences and watches, then evaluate periodically (and on SIGHUP) unless
        ``ALERTS_ENABLED`` is false, and apply the history's retention periodically; post the
        chats' digests when due."""
        await self.engine.start(utcnow())
        settings = self.evaluation.settings
        if settings.alerts_enabled:
            self.evaluation.install_sighup()
            self.tasks.add(asyncio.create_task(self.evaluation.run(self.broker)))
        else:
            log.warning("alerting is off (ALERTS_ENABLED=false): no rule is evaluated")
        self.tasks.add(asyncio.create_task(run_history_retention(self.store, settings)))
        self.tasks.add(asyncio.create_task(self.digests.run()))

    async def stop(self) -> None:
        """Stop evaluating and close the database engines."""
        self.evaluation.remove_sighup()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()
        await self.database.dispose()
        await self.measures.dispose()

    async def database_ready(self) -> bool:
        """True when PostgreSQL answers ``select 1`` within the probe timeout."""
        try:
            async with asyncio.timeout(self.evaluation.settings.alert_probe_timeout_s):
                async with self.database.connect() as connection:
                    await connection.execute(text("select 1"))
        except (SQLAlchemyError, OSError, TimeoutError):
            return False
        return True


def create_broker_for(
    settings: AlertsSettings,
    *,
    registry: CollectorRegistry | None = None,
    measure_reader: MeasureReader | None = None,
) -> tuple[NatsBroker, AlertsService]:
    """A broker with the alerts router, and the service it feeds. Reads the rules file
    (raises RulesFileError when it is invalid)."""
    registry = registry or CollectorRegistry()
    broker = create_broker(settings, service=SERVICE, registry=registry)
    subjects = subjects_of(broker)
    rules = RulesSource(settings.alert_rules_file, settings.threshold_overrides())
    database = create_engine(settings.database_url, pool_size=2)
    measures = watches.reader_engine(settings)
    store = AlertStore(database)
    engine = AlertEngine(
        rules.load(),
        store=store,
        measure_reader=measure_reader or watches.measure_reader(measures),
        store_timeout_s=settings.alert_probe_timeout_s * 2,
        enabled=settings.alerts_enabled,
    )
    evaluation = Evaluation(settings, subjects, engine, rules, database, AlertMetrics(registry))
    broker.include_router(create_router(subjects))
    provide(broker, engine, measures)
    digests = DigestScheduler(broker, subjects, DigestMetrics(registry))
    service = AlertsService(engine, evaluation, store, database, measures, broker, digests)
    return broker, service


def create_app(settings: AlertsSettings) -> AsgiFastStream:
    """The alerts process: broker, evaluation loop, /metrics and /health (ready when NATS and
    PostgreSQL answer)."""
    registry = CollectorRegistry()
    broker, service = create_broker_for(settings, registry=registry)
    return create_service_app(
        broker,
        settings,
        registry=registry,
        ready_checks=[service.database_ready],
        after_startup=[service.start],
        on_shutdown=[service.stop],
    )
