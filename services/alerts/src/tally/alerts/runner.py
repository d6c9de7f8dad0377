"""The evaluation loop: reload the rules when they change, sample JetStream and PostgreSQL,
evaluate, publish the notifications, export the alert gauges."""

import asyncio
import collections
import contextlib
import signal
from collections.abc import Iterable
from datetime import datetime

import structlog
from faststream.nats import NatsBroker
from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.alerts.collectors import collect_jetstream, probe_database
from tally.alerts.config import AlertsSettings
from tally.alerts.domain.rules import Rule
from tally.alerts.engine import AlertEngine
from tally.alerts.reloading import RulesSource
from tally.contracts.events import utcnow
from tally.contracts.subjects import Subjects
from tally.runtime.metrics import zero

log = structlog.get_logger(__name__)


class AlertMetrics:
    """``tally_alerts_firing{alertname,severity}`` and
    ``tally_alerts_notifications_total{status}``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.firing = Gauge(
            "tally_alerts_firing", "Alerts firing now", ["alertname", "severity"], registry=registry
        )
        self.notifications = Counter(
            "tally_alerts_notifications_total",
            "Alert notifications published",
            ["status"],
            registry=registry,
        )
        zero(self.notifications, status=("firing", "resolved"))
        self._shown: set[tuple[str, str]] = set()

    def set_firing(
        self, counts: collections.Counter[tuple[str, str]], rules: Iterable[Rule] = ()
    ) -> None:
        """Set each (alertname, severity) count; those no longer firing, and the ``rules``
        that never fired, read 0."""
        known = {(rule.name, rule.severity) for rule in rules}
        for key in self._shown | known | set(counts):
            self.firing.labels(*key).set(counts.get(key, 0))
        self._shown |= set(counts)


class Evaluation:
    """Runs the engine every ``evaluation_interval`` of the rules file, woken early by SIGHUP."""

    def __init__(
        self,
        settings: AlertsSettings,
        subjects: Subjects,
        engine: AlertEngine,
        rules: RulesSource,
        database: AsyncEngine,
        metrics: AlertMetrics,
    ) -> None:
        self.settings = settings
        self.subjects = subjects
        self.engine = engine
        self.rules = rules
        self.database = database
        self.metrics = metrics
        self._wake = asyncio.Event()

    def reload(self) -> None:
        """Re-read the rules file now (the SIGHUP handler)."""
        self.rules.request_reload()
        self._wake.set()

    async def tick(self, broker: NatsBroker, now: datetime) -> None:
        """One evaluation at ``now``: reload, sample, evaluate, publish."""
        if (rules := self.rules.changed()) is not None:
            self.engine.configure(rules, now)
        at, timeout = now.timestamp(), self.settings.alert_probe_timeout_s
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                js = broker.connection.jetstream()
                await collect_jetstream(js, self.subjects, self.engine.samples, at)
        await probe_database(self.database, self.engine.samples, at, timeout)
        for notification in await self.engine.evaluate(now):
            await broker.publish(notification, self.subjects.alert(notification.status))
            self.metrics.notifications.labels(notification.status).inc()
        self.metrics.set_firing(self.engine.firing_counts(), self.engine.config.rules)

    async def run(self, broker: NatsBroker) -> None:
        """Evaluate until cancelled; a failed evaluation is logged and the next one runs."""
        while True:
            try:
                await self.tick(broker, utcnow())
            except Exception:  # a failed evaluation must not stop later ones
                log.exception("alert evaluation failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.engine.config.evaluation_interval_s):
                    await self._wake.wait()
            self._wake.clear()

    def install_sighup(self) -> bool:
        """Reload on SIGHUP; False where signals cannot be handled (not the main thread)."""
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.reload)
        except (NotImplementedError, RuntimeError, ValueError):
            return False
        return True

    def remove_sighup(self) -> None:
        """Stop handling SIGHUP (at shutdown)."""
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
