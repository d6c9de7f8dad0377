"""Alerts handlers: answers in, alert notices out."""

import asyncio
import time
from typing import Any

import structlog
from faststream.nats import DeliverPolicy, JStream, NatsBroker, NatsRouter, PullSub
from faststream.nats.publisher.usecase import LogicPublisher
from prometheus_client import CollectorRegistry, Gauge

from tally.alerts.config import AlertsSettings
from tally.alerts.domain.failure_rate import FailureRateRule, FailureRateWindow, Transition
from tally.common.events import AlertNotice, QuestionAnswered, validate_each
from tally.common.subjects import Subjects

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
            "tally_alerts_question_failure_ratio",
            "Failed share of answers in the window",
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

    async def check(self, notices: LogicPublisher | NatsBroker) -> None:
        """Evaluate the rule now; publish a notice when it starts firing or resolves."""
        now = time.time()
        transition = self.window.evaluate(now)
        rate, _ = self.window.rate(now)
        self.failure_rate.set(rate)
        self.firing.labels(ALERT_NAME).set(1 if self.window.firing else 0)
        if transition:
            await notices.publish(self.notice(transition, rate), self.subjects.alert(transition))

    async def run_checks(self, notices: LogicPublisher | NatsBroker) -> None:
        """Evaluate periodically, so an alert resolves even when traffic stops."""
        while True:
            await asyncio.sleep(self.settings.alert_check_interval_s)
            try:
                await self.check(notices)
            except Exception:  # a failed check must not stop later ones
                log.exception("alert check failed")


def create_router(monitor: FailureRateMonitor) -> NatsRouter:
    """Answers from the ACTIVITY stream, in batches of up to 100, through durable ``alerts``.

    New answers only (an alert is about now); a restart resumes where it stopped, and
    answers older than the window are counted out at once, because times are the answers'
    own ``asked_at``.
    """
    router = NatsRouter()
    notices = router.publisher(monitor.subjects.alerts_all)

    @router.subscriber(
        monitor.subjects.answers_all,
        stream=JStream(monitor.subjects.activity_stream, declare=False),
        durable=SERVICE,
        deliver_policy=DeliverPolicy.NEW,
        pull_sub=PullSub(batch_size=100, timeout=0.2, batch=True),
    )
    async def observe(payloads: list[Any]) -> None:
        answers, _ = validate_each(QuestionAnswered, payloads)  # ingest dead-letters the rest
        for answer in answers:
            at = answer.question.asked_at.timestamp()
            monitor.window.observe(at, failed=answer.outcome == "failed")
        await monitor.check(notices)

    return router
