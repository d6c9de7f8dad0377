"""Executor handlers: a planned question in, an answer out."""

from datetime import UTC, datetime

from faststream.nats import NatsRouter

from tally.common.errors import UserFacingError
from tally.common.events import QueryPlanned, QuestionAnswered
from tally.common.subjects import Subjects
from tally.executor.domain.compiler import compile_plan
from tally.executor.metrics import ExecutorMetrics
from tally.executor.runner import Reader

SERVICE = "executor"


def _total_ms(planned: QueryPlanned) -> float:
    return (datetime.now(UTC) - planned.question.asked_at).total_seconds() * 1000


async def answer(planned: QueryPlanned, reader: Reader) -> QuestionAnswered:
    """Compile and run ``planned``; a failure becomes a ``failed`` answer with a reason."""
    query = compile_plan(planned.plan)
    common = {"question": planned.question, "plan": planned.plan, "engine": planned.engine}
    try:
        value, elapsed_ms = await reader.run(query)
    except UserFacingError as error:
        return QuestionAnswered(
            **common,
            outcome="failed",
            sql=query.sql,
            params=query.params,
            reason=error.message,
            total_ms=_total_ms(planned),
        )
    return QuestionAnswered(
        **common,
        outcome="answered",
        value=value,
        interpretation=planned.plan.interpretation,
        sql=query.sql,
        params=query.params,
        row_count=1,
        elapsed_ms=elapsed_ms,
        total_ms=_total_ms(planned),
    )


def create_router(subjects: Subjects, reader: Reader, metrics: ExecutorMetrics) -> NatsRouter:
    """The executor's subscriber: ``plans.ready`` (queue group ``executor``) -> ``answers.*``.

    Invalid messages are dead-lettered by the broker's middleware (tally.common.deadletter).
    """
    router = NatsRouter()
    answers = router.publisher(subjects.answers_all)

    @router.subscriber(subjects.plan_ready, queue=SERVICE)
    async def execute(planned: QueryPlanned) -> None:
        result = await answer(planned, reader)
        metrics.queries.labels(result.outcome).inc()
        metrics.query_seconds.observe(result.elapsed_ms / 1000)
        question = planned.question
        await answers.publish(result, subjects.answer(question.channel, str(question.question_id)))

    return router
