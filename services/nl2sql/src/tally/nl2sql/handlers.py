"""nl2sql handlers: a question in; a plan, LLM-written SQL or a refusal out.

:func:`plan` is a module-level typed handler whose dependencies come from the broker's
context (:mod:`tally.nl2sql.deps`); :func:`create_router` subscribes it to
``questions.asked`` (queue group ``nl2sql``). Plans go to ``plans.ready``, LLM-written SQL to
``sql.proposed``, refusals and failures straight to ``answers.{channel}.{question_id}``.

With an LLM engine, questions the built-in parser refuses (``NL_ENGINE=auto``), or every
question (``NL_ENGINE=llm``), go to the LLM; without, the parser alone answers.

A question asked again under an id met within the last ten minutes
(tally.infra.idempotency) is not read again: while the first attempt is in flight it is
dropped; once handled, the event it gave is published again (so a question lost further on,
in an executor replica that died, is still answered), unless that attempt failed (counted in
``tally_nl2sql_repeated_questions_total``).
"""

from functools import partial
from time import perf_counter

from faststream.nats import NatsRouter

from tally.contracts.events import QueryPlanned, QuestionAnswered, QuestionAsked, SqlProposed
from tally.infra.telemetry import trace_exemplar
from tally.nl2sql.deps import (
    AnsweredDep,
    LlmDep,
    MetricsDep,
    Outbox,
    OutboxDep,
    RecentDep,
    SettingsDep,
)
from tally.nl2sql.llm import LlmEngine
from tally.nl2sql.metrics import Nl2sqlMetrics
from tally.nl2sql.planning import Planned, ask_llm, plan_question
from tally.runtime.broker import unprefixed_subjects
from tally.runtime.metrics import AnswerMetrics

SERVICE = "nl2sql"


def _outcome(event: Planned) -> str:
    if isinstance(event, QueryPlanned):
        return "planned"
    return "proposed" if isinstance(event, SqlProposed) else event.outcome


def _refused(event: Planned | None) -> bool:
    return event is None or (isinstance(event, QuestionAnswered) and event.outcome == "refused")


def _failed(event: Planned) -> bool:
    return isinstance(event, QuestionAnswered) and event.outcome == "failed"


def _builtin(question: QuestionAsked, metrics: Nl2sqlMetrics) -> QueryPlanned | QuestionAnswered:
    started = perf_counter()
    event = plan_question(question)
    metrics.plan_seconds.observe(perf_counter() - started, trace_exemplar())
    return event


async def read(
    question: QuestionAsked, *, llm: LlmEngine | None, llm_first: bool, metrics: Nl2sqlMetrics
) -> Planned:
    """The event that answers ``question``: the parser's, unless ``llm_first``; the LLM's
    when the parser refused (or did not run) and ``llm`` is given. Counted by outcome."""
    event: Planned | None = None if llm is not None and llm_first else _builtin(question, metrics)
    if llm is not None and _refused(event):
        event = await ask_llm(llm, question)
    assert event is not None  # the parser ran, or the LLM did
    metrics.questions.labels(_outcome(event), question.language, event.engine).inc()
    return event


async def _first_time(
    question: QuestionAsked,
    *,
    llm: LlmEngine | None,
    llm_first: bool,
    metrics: Nl2sqlMetrics,
    answered: AnswerMetrics,
    outbox: Outbox,
) -> Planned:
    event = await read(question, llm=llm, llm_first=llm_first, metrics=metrics)
    await outbox.send(event)
    if isinstance(event, QuestionAnswered):
        answered.answered(event)
    return event


async def plan(
    question: QuestionAsked,
    settings: SettingsDep,
    llm: LlmDep,
    metrics: MetricsDep,
    answered: AnsweredDep,
    recent: RecentDep,
    outbox: OutboxDep,
) -> None:
    """Read ``question`` and send the event it gives, once per question id (a repeat is
    dropped while the first is in flight, given the same event once it was handled)."""
    llm_first = settings.nl_engine == "llm"
    attempt = partial(
        _first_time,
        question,
        llm=llm,
        llm_first=llm_first,
        metrics=metrics,
        answered=answered,
        outbox=outbox,
    )
    seen = await recent.once(question.question_id, attempt, failed=_failed)
    if seen is None:
        return
    if seen.result is None:
        metrics.repeated.labels("dropped").inc()
    else:
        metrics.repeated.labels("replayed").inc()
        await outbox.send(seen.result)


def create_router(prefix: str, *, workers: int | None = None) -> NatsRouter:
    """A router on ``prefix``'s subjects with :func:`plan` on ``questions.asked``, reading
    ``workers`` questions at once (None: one at a time, the parser never waits; several
    when a slow LLM may hold one). What it sends is declared where the broker is made
    (tally.contracts.publications).

    A new router per broker: FastStream's router belongs to one broker at a time, and the
    number of workers is a setting."""
    router = NatsRouter(prefix=prefix)
    asked = unprefixed_subjects.question_asked
    if workers is None:
        router.subscriber(asked, queue=SERVICE)(plan)
    else:
        router.subscriber(asked, queue=SERVICE, max_workers=workers)(plan)
    return router
