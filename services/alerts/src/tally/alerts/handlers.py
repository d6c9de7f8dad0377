"""Alerts handlers: answers in (samples), admins' commands answered (request/reply)."""

import time
from typing import Any

from faststream.nats import DeliverPolicy, JStream, NatsRouter, PullSub
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.alerts.commands import handle
from tally.alerts.domain.answers import AnswerMetrics
from tally.alerts.engine import AlertEngine
from tally.contracts.alerting import AlertCommand, AlertCommandReply
from tally.contracts.events import QuestionAnswered, utcnow, validate_each
from tally.contracts.subjects import ALERTS_DURABLE, Subjects

SERVICE = "alerts"


def create_router(
    engine: AlertEngine, subjects: Subjects, measures: AsyncEngine | None = None
) -> NatsRouter:
    """Answers from the ACTIVITY stream (durable ``alerts``, new answers only, batches of up
    to 100) become samples; commands on ``Subjects.alert_command`` (queue group ``alerts``)
    are answered with an AlertCommandReply (``watch`` backtests on ``measures``)."""
    router = NatsRouter()
    answers = AnswerMetrics(engine.samples)

    @router.subscriber(
        subjects.answers_all,
        stream=JStream(subjects.activity_stream, declare=False),
        durable=ALERTS_DURABLE,
        deliver_policy=DeliverPolicy.NEW,
        pull_sub=PullSub(batch_size=100, timeout=0.2, batch=True),
    )
    async def observe(payloads: list[Any]) -> None:
        valid, _ = validate_each(QuestionAnswered, payloads)  # ingest dead-letters the rest
        now = time.time()
        for answer in valid:
            answers.observe(answer, now)

    @router.subscriber(subjects.alert_command, queue=SERVICE)
    async def command(command: AlertCommand) -> AlertCommandReply:
        return await handle(engine, command, utcnow(), measures=measures)

    return router
