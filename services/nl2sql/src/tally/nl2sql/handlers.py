"""nl2sql handlers: a question in, a plan (or a refusal) out."""

from datetime import UTC, datetime
from time import perf_counter

import structlog
from faststream.nats import NatsRouter
from prometheus_client import CollectorRegistry, Counter, Histogram

from tally.common.events import QueryPlanned, QuestionAnswered, QuestionAsked
from tally.common.subjects import Subjects
from tally.nl2sql.config import Nl2sqlSettings
from tally.nl2sql.domain import Refusal, failure_reason, parse

SERVICE = "nl2sql"
ENGINE = "builtin"
log = structlog.get_logger(__name__)


class Nl2sqlMetrics:
    """Questions by outcome (planned, refused, failed), language and engine; parse time (s)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.questions = Counter(
            "tally_nl2sql_questions_total",
            "Questions read, by outcome",
            ["outcome", "language", "engine"],
            registry=registry,
        )
        self.plan_seconds = Histogram(
            "tally_nl2sql_plan_seconds",
            "Time to read one question into a plan or a refusal",
            buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1),
            registry=registry,
        )


def _ms_since(asked_at: datetime) -> float:
    return (datetime.now(UTC) - asked_at).total_seconds() * 1000


def _failed(question: QuestionAsked) -> QuestionAnswered:
    log.exception("parser failed", question_id=str(question.question_id))
    return QuestionAnswered(
        question=question,
        outcome="failed",
        reason=failure_reason(question.language),
        engine=ENGINE,
        total_ms=_ms_since(question.asked_at),
    )


def plan_question(question: QuestionAsked) -> QueryPlanned | QuestionAnswered:
    """The plan for ``question``, or its answer: ``refused`` (with examples) or ``failed``.

    "Today" for relative dates is the UTC calendar day of ``question.asked_at``.
    """
    started = perf_counter()
    today = question.asked_at.astimezone(UTC).date()
    try:
        result = parse(question.text, language=question.language, today=today)
    except Exception:  # the asker gets a sentence, the operator the traceback in the log
        return _failed(question)
    if isinstance(result, Refusal):
        return QuestionAnswered(
            question=question,
            outcome="refused",
            reason=result.reason,
            examples=result.examples,
            engine=ENGINE,
            total_ms=_ms_since(question.asked_at),
        )
    planned_ms = (perf_counter() - started) * 1000
    return QueryPlanned(question=question, plan=result, engine=ENGINE, planned_ms=planned_ms)


def _outcome(event: QueryPlanned | QuestionAnswered) -> str:
    return "planned" if isinstance(event, QueryPlanned) else event.outcome


def create_router(settings: Nl2sqlSettings, metrics: Nl2sqlMetrics) -> NatsRouter:
    """nl2sql's subscriber: ``questions.asked`` (queue group ``nl2sql``) -> ``plans.ready``,
    or a refusal straight to ``answers.{channel}.{question_id}``."""
    subjects = Subjects(settings.subject_prefix)
    router = NatsRouter()

    plans = router.publisher(subjects.plan_ready)
    answers = router.publisher(subjects.answers_all)

    @router.subscriber(subjects.question_asked, queue=SERVICE)
    async def plan(question: QuestionAsked) -> None:
        started = perf_counter()
        event = plan_question(question)
        metrics.plan_seconds.observe(perf_counter() - started)
        metrics.questions.labels(_outcome(event), question.language, ENGINE).inc()
        if isinstance(event, QueryPlanned):
            await plans.publish(event)
        else:
            await answers.publish(
                event, subjects.answer(question.channel, str(question.question_id))
            )

    return router
