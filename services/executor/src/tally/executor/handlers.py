"""Executor handlers: a planned question in, an answer out."""

from datetime import UTC, datetime

from faststream.nats import NatsMessage, NatsRouter
from faststream.nats.annotations import NatsBroker
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.common.deadletter import decode_or_dead_letter
from tally.common.errors import UserFacingError
from tally.common.events import QueryPlanned, QuestionAnswered
from tally.common.subjects import Subjects
from tally.executor.domain.compiler import compile_plan
from tally.executor.metrics import ExecutorMetrics
from tally.executor.runner import run_query

SERVICE = "executor"


def _total_ms(planned: QueryPlanned) -> float:
    return (datetime.now(UTC) - planned.question.asked_at).total_seconds() * 1000


async def answer(planned: QueryPlanned, engine: AsyncEngine) -> QuestionAnswered:
    """Compile and run ``planned``; a failure becomes a ``failed`` answer with a reason."""
    query = compile_plan(planned.plan)
    common = {"question": planned.question, "plan": planned.plan, "engine": planned.engine}
    try:
        value, elapsed_ms = await run_query(engine, query)
    except UserFacingError as error:
        return QuestionAnswered(
            **common, outcome="failed", sql=query.sql, params=query.params,
            reason=error.message, total_ms=_total_ms(planned),
        )
    return QuestionAnswered(
        **common, outcome="answered", value=value, interpretation=planned.plan.interpretation,
        sql=query.sql, params=query.params, row_count=1, elapsed_ms=elapsed_ms,
        total_ms=_total_ms(planned),
    )


def create_router(subjects: Subjects, engine: AsyncEngine, metrics: ExecutorMetrics) -> NatsRouter:
    """The executor's subscriber: ``plans.ready`` (queue group ``executor``) -> ``answers.*``."""
    router = NatsRouter()

    @router.subscriber(subjects.plan_ready, queue=SERVICE)
    async def execute(message: NatsMessage, broker: NatsBroker) -> None:
        planned = await decode_or_dead_letter(
            QueryPlanned, message, broker=broker, subjects=subjects, service=SERVICE
        )
        if planned is None:
            return
        result = await answer(planned, engine)
        metrics.queries.labels(result.outcome).inc()
        metrics.query_seconds.observe(result.elapsed_ms / 1000)
        question = planned.question
        await broker.publish(result, subjects.answer(question.channel, str(question.question_id)))

    return router
