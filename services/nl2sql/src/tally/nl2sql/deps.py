"""What nl2sql's handler needs, as FastStream context and dependencies: ``Annotated`` aliases
for a handler's signature, :func:`provide` to put the values in a broker's context, and the
:class:`Outbox` that sends each event to its subject (a ``Depends`` on the broker and the
subjects :func:`tally.runtime.broker.create_broker` put there)."""

from dataclasses import dataclass
from typing import Annotated

from faststream import Context, Depends
from faststream.nats import NatsBroker
from faststream.nats.annotations import NatsBroker as BrokerDep

from tally.contracts.events import QueryPlanned, SqlProposed
from tally.contracts.subjects import Subjects
from tally.infra.idempotency import RecentQuestions
from tally.nl2sql.config import Nl2sqlSettings
from tally.nl2sql.llm import LlmEngine
from tally.nl2sql.metrics import Nl2sqlMetrics
from tally.nl2sql.planning import Planned
from tally.runtime.answers import publish_answer
from tally.runtime.broker import SubjectsDep
from tally.runtime.metrics import AnswerMetrics

SettingsDep = Annotated[Nl2sqlSettings, Context("settings")]
LlmDep = Annotated[LlmEngine | None, Context("llm", default=None)]
"""The LLM engine, None when no LLM is on (the parser alone answers)."""
MetricsDep = Annotated[Nl2sqlMetrics, Context("metrics")]
AnsweredDep = Annotated[AnswerMetrics, Context("answered")]
"""Counts the answers nl2sql publishes itself (refusals, failures, ask-backs)."""
RecentDep = Annotated[RecentQuestions[Planned], Context("recent")]
"""Question ids in flight or handled here, with the event each gave."""


@dataclass(frozen=True, slots=True)
class Outbox:
    """Sends an event where it goes: a plan to ``plans.ready``, LLM-written SQL to
    ``sql.proposed``, an answer to ``answers.{channel}.{question_id}``
    (:func:`tally.runtime.answers.publish_answer`)."""

    broker: NatsBroker
    subjects: Subjects

    async def send(self, event: Planned) -> None:
        """Publish ``event`` on its subject; raises the broker's errors."""
        if isinstance(event, QueryPlanned):
            await self.broker.publish(event, self.subjects.plan_ready)
        elif isinstance(event, SqlProposed):
            await self.broker.publish(event, self.subjects.sql_proposed)
        else:
            await publish_answer(self.broker, event, self.subjects)


def _outbox(broker: BrokerDep, subjects: SubjectsDep) -> Outbox:
    return Outbox(broker, subjects)


OutboxDep = Annotated[Outbox, Depends(_outbox)]


def provide(
    broker: NatsBroker,
    *,
    settings: Nl2sqlSettings,
    metrics: Nl2sqlMetrics,
    answered: AnswerMetrics,
    llm: LlmEngine | None,
) -> None:
    """Put these (and a fresh :class:`RecentQuestions`) in ``broker``'s context."""
    context = broker.context
    context.set_global("settings", settings)
    context.set_global("metrics", metrics)
    context.set_global("answered", answered)
    context.set_global("llm", llm)
    context.set_global("recent", RecentQuestions[Planned]())
