"""Executor handlers: a planned question, or LLM-written SQL, in; an answer out; and the chat
and operations reports (request/reply).

The handlers are module-level typed functions; what they need comes from the broker's
context (:mod:`tally.executor.deps`). :func:`create_router` subscribes them (queue group
``executor``): ``plans.ready`` (through the answer cache when it is on, on the
``tally_reader`` pool) and ``sql.proposed`` (through the SQL firewall, on the ``tally_llm``
pool, which may read the video tables only) -> ``answers.{channel}.{question_id}``;
``reports.chat`` -> a group's ChatReport; ``reports.ops`` -> the admins' OpsReport.

A plan or SQL whose question id is in flight or was answered here within ten minutes (a
question asked again, tally.infra.idempotency) is dropped, unless that answer failed. Invalid
messages are dead-lettered by the broker's middleware (tally.runtime.deadletter).
"""

from collections.abc import Awaitable, Callable
from functools import partial

from faststream.nats import NatsBroker, NatsRouter
from faststream.nats.annotations import NatsBroker as BrokerDep

from tally.contracts.chat_reports import ChatReport, ChatReportRequested
from tally.contracts.events import Outcome, QueryPlanned, QuestionAsked, SqlProposed
from tally.contracts.ops_reports import OpsReport, OpsReportRequested
from tally.contracts.subjects import Subjects
from tally.executor.answering import answer, answer_cached, answer_sql, remember
from tally.executor.cache import AnswerCache
from tally.executor.deps import (
    CacheDep,
    LlmReaderDep,
    MetricsDep,
    OpsDep,
    ReaderDep,
    RecentDep,
)
from tally.executor.metrics import ExecutorMetrics
from tally.executor.reports import answer_report
from tally.executor.runner import Reader
from tally.infra.idempotency import RecentQuestions
from tally.infra.telemetry import trace_exemplar
from tally.runtime.answers import publish_answer
from tally.runtime.broker import SubjectsDep, unprefixed_subjects
from tally.semantic import catalog

SERVICE = "executor"


def _failed(outcome: Outcome) -> bool:
    return outcome == "failed"


async def _once(
    recent: RecentQuestions[Outcome],
    metrics: ExecutorMetrics,
    question: QuestionAsked,
    respond: Callable[[], Awaitable[Outcome]],
) -> None:
    """``respond()`` unless ``question``'s id is in flight or answered here (then it is
    dropped, counted); a ``failed`` answer, or an error, lets the next ask run again."""
    seen = await recent.once(question.question_id, respond, failed=_failed)
    if seen is not None:
        metrics.repeated.inc()


async def _run_plan(
    planned: QueryPlanned,
    *,
    reader: Reader,
    cache: AnswerCache | None,
    metrics: ExecutorMetrics,
    subjects: Subjects,
    broker: NatsBroker,
) -> Outcome:
    if cache is None or catalog().chat_scoped(planned.plan.dataset):
        result, lookup = await answer(planned, reader), None
    else:
        result, lookup = await answer_cached(planned, reader, cache)
    if not result.cached:
        metrics.queries.labels(result.outcome).inc()
        metrics.query_seconds.observe(result.elapsed_ms / 1000, trace_exemplar())
    await publish_answer(broker, result, subjects)
    metrics.answers.answered(result)
    if cache is not None and lookup is not None:
        await remember(cache, lookup, result)
    return result.outcome


async def _run_sql(
    proposed: SqlProposed,
    *,
    llm: Reader,
    metrics: ExecutorMetrics,
    subjects: Subjects,
    broker: NatsBroker,
) -> Outcome:
    result = await answer_sql(proposed, llm, metrics)
    await publish_answer(broker, result, subjects)
    metrics.answers.answered(result)
    return result.outcome


async def execute(
    planned: QueryPlanned,
    reader: ReaderDep,
    cache: CacheDep,
    metrics: MetricsDep,
    recent: RecentDep,
    subjects: SubjectsDep,
    broker: BrokerDep,
) -> None:
    """Answer a plan (from the cache when it holds a current answer), once per question id."""
    respond = partial(
        _run_plan,
        planned,
        reader=reader,
        cache=cache,
        metrics=metrics,
        subjects=subjects,
        broker=broker,
    )
    await _once(recent, metrics, planned.question, respond)


async def execute_sql(
    proposed: SqlProposed,
    llm: LlmReaderDep,
    metrics: MetricsDep,
    recent: RecentDep,
    subjects: SubjectsDep,
    broker: BrokerDep,
) -> None:
    """Answer LLM-written SQL the firewall accepts (a refusal otherwise), once per question
    id."""
    respond = partial(
        _run_sql, proposed, llm=llm, metrics=metrics, subjects=subjects, broker=broker
    )
    await _once(recent, metrics, proposed.question, respond)


async def report(request: ChatReportRequested, reader: ReaderDep) -> ChatReport:
    """A group's report (request/reply), from that chat's rollups only."""
    return await answer_report(request, reader)


async def ops_report(request: OpsReportRequested, ops: OpsDep) -> OpsReport:
    """The admins' /analytics, /metrics or /health (request/reply)."""
    return await ops.answer(request)


def create_router(prefix: str, *, ops: bool) -> NatsRouter:
    """A router on ``prefix``'s subjects with the handlers above (``reports.ops`` only when
    ``ops``: the broker's context then holds an operations reporter). The answers it sends
    are declared where the broker is made (tally.contracts.publications).

    A new router per broker: FastStream's router belongs to one broker at a time, and one
    process may run several executors (the tests do)."""
    router = NatsRouter(prefix=prefix)
    router.subscriber(unprefixed_subjects.plan_ready, queue=SERVICE)(execute)
    router.subscriber(unprefixed_subjects.sql_proposed, queue=SERVICE)(execute_sql)
    router.subscriber(unprefixed_subjects.chat_report, queue=SERVICE)(report)
    if ops:
        router.subscriber(unprefixed_subjects.ops_report, queue=SERVICE)(ops_report)
    return router
