"""Alerts handlers: answers in, alert notices out."""

import asyncio
import time

import structlog
from faststream.nats import NatsBroker, NatsMessage, NatsRouter
from faststream.nats.annotations import NatsBroker as BrokerDep
from prometheus_client import CollectorRegistry, Gauge

from tally.common.events import AlertNotice, QuestionAnswered
from tally.common.subjects import Subjects
from tally.alerts.config import AlertsSettings
from tally.alerts.domain.failure_rate import FailureRateRule, FailureRateWindow, Transition

SERVICE = "alerts"
log = structlog.get_logger(__name__)
ALERT_NAME = "HighQuestionFailureRate"


class FailureRateMonitor:
    """Feeds answer outcomes to the rule and publishes its transitions as AlertNotice."""

    def __init__(self, settings: AlertsSettings, registry: CollectorRegistry) -> None:
        self.settings = settings
        self.subjects = Subjects(settings.subject_prefix)
        rule = FailureRateRule(
            settings.alert_window_s, settings.alert_failure_rate, settings.alert_min_questions
        )
        self.window = FailureRateWindow(rule)
        self.firing = Gauge(
            "tally_alerts_firing", "Alerts currently firing", ["alertname"], registry=registry
        )
        self.failure_rate = Gauge(
            "tally_alerts_question_failure_ratio", "Failed share of answers in the window",
            registry=registry,
        )

    def notice(self, transition: Transition, rate: float) -> AlertNotice:
        percent, window = round(rate * 100), round(self.settings.alert_window_s)
        return AlertNotice(
            name=ALERT_NAME,
            status=transition,
            severity="critical",
            summary=f"{percent}% of questions failed over the last {window} s",
            value=rate,
            threshold=self.settings.alert_failure_rate,
        )

    async def check(self, broker: NatsBroker) -> None:
        """Evaluate the rule now; publish a notice when it starts firing or resolves."""
        now = time.monotonic()
        transition = self.window.evaluate(now)
        rate, _ = self.window.rate(now)
        self.failure_rate.set(rate)
        self.firing.labels(ALERT_NAME).set(1 if self.window.firing else 0)
        if transition:
            await broker.publish(self.notice(transition, rate), self.subjects.alert(transition))

    async def run_checks(self, broker: NatsBroker) -> None:
        """Evaluate periodically, so an alert resolves even when traffic stops."""
        while True:
            await asyncio.sleep(self.settings.alert_check_interval_s)
            try:
                await self.check(broker)
            except Exception:  # a failed check must not stop later ones
                log.exception("alert check failed")


def create_router(monitor: FailureRateMonitor) -> NatsRouter:
    """Every answer (queue group ``alerts``) counts towards the failure rate."""
    router = NatsRouter()

    @router.subscriber(monitor.subjects.answers_all, queue=SERVICE)
    async def observe(message: NatsMessage, broker: BrokerDep) -> None:
        try:
            outcome = QuestionAnswered.model_validate_json(message.body).outcome
        except ValueError:
            return  # not an answer; the consumers that own it dead-letter it
        monitor.window.observe(time.monotonic(), failed=outcome == "failed")
        await monitor.check(broker)

    return router
