"""Alerts handlers: answers in (samples), admins' commands answered (request/reply).

The handlers are typed functions; what they use comes from the broker's context, put there
once by :func:`provide`: the engine (``EngineDep``), the answers' sample recorder
(``AnswersDep``) and the read-only database that ``watch`` backtests on (``MeasuresDep``).
"""

import time
from typing import Annotated, Any, Final

from faststream import Context
from faststream.nats import DeliverPolicy, JStream, NatsBroker, NatsRoute, NatsRouter, PullSub
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.alerts.commands import handle
from tally.alerts.domain.answers import AnswerMetrics
from tally.alerts.engine import AlertEngine
from tally.contracts.alerting import AlertCommand, AlertCommandReply
from tally.contracts.events import QuestionAnswered, utcnow, validate_each
from tally.contracts.subjects import ALERTS_DURABLE, Subjects

SERVICE: Final = "alerts"

EngineDep = Annotated[AlertEngine, Context("alert_engine")]
AnswersDep = Annotated[AnswerMetrics, Context("answer_metrics")]
MeasuresDep = Annotated[AsyncEngine, Context("measures")]


async def observe(payloads: list[Any], answers: AnswersDep) -> None:
    """A batch of answers becomes samples (the invalid ones are skipped: ingest dead-letters
    them)."""
    valid, _ = validate_each(QuestionAnswered, payloads)
    now = time.time()
    for answer in valid:
        answers.observe(answer, now)


async def command(
    request: AlertCommand, engine: EngineDep, measures: MeasuresDep
) -> AlertCommandReply:
    """An admin's command carried out now; the reply says how it went."""
    return await handle(engine, request, utcnow(), measures=measures)


def create_router(subjects: Subjects) -> NatsRouter:
    """Answers from the ACTIVITY stream (durable ``alerts``, new answers only, batches of up
    to 100) go to :func:`observe`; commands on ``Subjects.alert_command`` (queue group
    ``alerts``) to :func:`command`, whose reply is an AlertCommandReply."""
    return NatsRouter(
        handlers=(
            NatsRoute(
                observe,
                subjects.answers_all,
                stream=JStream(subjects.activity_stream, declare=False),
                durable=ALERTS_DURABLE,
                deliver_policy=DeliverPolicy.NEW,
                pull_sub=PullSub(batch_size=100, timeout=0.2, batch=True),
            ),
            NatsRoute(command, subjects.alert_command, queue=SERVICE),
        )
    )


def provide(broker: NatsBroker, engine: AlertEngine, measures: AsyncEngine) -> None:
    """Put what the handlers use into ``broker``'s context."""
    broker.context.set_global("alert_engine", engine)
    broker.context.set_global("answer_metrics", AnswerMetrics(engine.samples))
    broker.context.set_global("measures", measures)
