"""Executor handlers: a planned question, or LLM-written SQL, in; an answer out; and the chat
and operations reports (request/reply).

The handlers are module-level typed functions; what they need comes from the broker's
context (:mod:`tally.executor.deps`). :func:`create_router` subscribes them (queue group
``executor``): ``plans.ready`` (through the answer cache when it is on, on the
``tally_reader`` pool) and ``sql.proposed`` (through the SQL firewall, on the ``tally_llm``
pool, which may read the video tables only) -> ``answers.{channel}.{question_id}``;
``reports.chat`` -> a group's ChatReport; ``reports.ops`` -> the admins' OpsReport.

A plan or SQL whose question id is in flight here (a question asked again, see
tally.infra.idempotency) is dropped; one answered here within ten minutes gets that answer
published again, nothing read again, since a question is asked again only when its answer did
not arrive (lost on the way, say, with a NATS node that died); one whose answer failed runs
again. Invalid messages are dead-lettered by the broker's middleware
(tally.runtime.deadletter).
"""

from collections.abc import Awaitable, Callable
from functools import partial

from faststream.nats import NatsBroker, NatsRouter
from faststream.nats.annotations import NatsBroker as BrokerDep

from tally.contracts.chat_reports import ChatReport, ChatReportRequested
from tally.contracts.events import QueryPlanned, QuestionAnswered, QuestionAsked, SqlProposed
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


def _failed(answered: QuestionAnswered) -> bool:
    return answered.outcome == "failed"


async def _once(
    recent: RecentQuestions[QuestionAnswered],
    metrics: ExecutorMetrics,
    question: QuestionAsked,
    respond: Callable[[], Awaitable[QuestionAnswered]],
    *,
    broker: NatsBroker,
    subjects: Subjects,
) -> None:
    """``respond()`` (which publishes the answer) unless ``question``'s id was met here: a
    repeat while the first is in flight is dropped, one after it was answered gets the same
    answer published again (both counted in ``repeated`` by action); a ``failed`` answer,
    or an error, lets the next ask run again."""
    seen = await recent.once(question.question_id, respond, failed=_failed)
    if seen is None:
        return
    if seen.result is None:
        metrics.repeated.labels("dropped").inc()
        return
    metrics.repeated.labels("replayed").inc()
    await publish_answer(broker, seen.result, subjects)


async def _run_plan(
    planned: QueryPlanned,
    *,
    reader: Reader,
    cache: AnswerCache | None,
    metrics: ExecutorMetrics,
    subjects: Subjects,
    broker: NatsBroker,
) -> QuestionAnswered:
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
    return result


async def _run_sql(
    proposed: SqlProposed,
    *,
    llm: Reader,
    metrics: ExecutorMetrics,
    subjects: Subjects,
    broker: NatsBroker,
) -> QuestionAnswered:
    result = await answer_sql(proposed, llm, metrics)
    await publish_answer(broker, result, subjects)
    metrics.answers.answered(result)
    return result


async def execute(
    planned: QueryPlanned,
    reader: ReaderDep,
    cache: CacheDep,
    metrics: MetricsDep,
    recent: RecentDep,
    subjects: SubjectsDep,
    broker: BrokerDep,
) -> None:
    """Answer a plan (from the cache when it holds a current answer), run once per question
    id (see :func:`_once`)."""
    respond = partial(
        _run_plan,
        planned,
        reader=reader,
        cache=cache,
        metrics=metrics,
        subjects=subjects,
        broker=broker,
    )
    await _once(recent, metrics, planned.question, respond, broker=broker, subjects=subjects)


async def execute_sql(
    proposed: SqlProposed,
    llm: LlmReaderDep,
    metrics: MetricsDep,
    recent: RecentDep,
    subjects: SubjectsDep,
    broker: BrokerDep,
) -> None:
    """Answer LLM-written SQL the firewall accepts (a refusal otherwise), run once per
    question id (see :func:`_once`)."""
    respond = partial(
        _run_sql, proposed, llm=llm, metrics=metrics, subjects=subjects, broker=broker
    )
    await _once(recent, metrics, proposed.question, respond, broker=broker, subjects=subjects)


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
