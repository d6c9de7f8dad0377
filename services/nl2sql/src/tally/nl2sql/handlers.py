"""nl2sql handlers: a question in; a plan, LLM-written SQL or a refusal out.

A question asked again under an id met within the last ten minutes
(tally.infra.idempotency) is not read again: while the first attempt is in flight it is
dropped; once handled, the event it gave is published again (so a question lost further on,
in an executor replica that died, is still answered), unless that attempt failed.
"""

from functools import partial
from time import perf_counter

from faststream.nats import NatsRouter

from tally.contracts.events import QueryPlanned, QuestionAnswered, QuestionAsked, SqlProposed
from tally.contracts.subjects import Subjects
from tally.infra.idempotency import RecentQuestions
from tally.nl2sql.config import Nl2sqlSettings
from tally.nl2sql.llm import LlmEngine
from tally.nl2sql.metrics import Nl2sqlMetrics
from tally.nl2sql.planning import Planned, ask_llm, plan_question
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


def create_router(
    settings: Nl2sqlSettings,
    metrics: Nl2sqlMetrics,
    llm: LlmEngine | None = None,
    *,
    answered: AnswerMetrics,
) -> NatsRouter:
    """nl2sql's subscriber on ``questions.asked`` (queue group ``nl2sql``): plans to
    ``plans.ready``, LLM-written SQL to ``sql.proposed``, refusals and failures straight to
    ``answers.{channel}.{question_id}`` (counted in ``answered``).

    With ``llm``, questions the built-in parser refuses (``NL_ENGINE=auto``), or every
    question (``NL_ENGINE=llm``), go to the LLM engine; without, the parser alone answers.
    A question id already in flight is dropped, one already handled gets its event again
    (counted in ``tally_nl2sql_repeated_questions_total``).
    """
    subjects = Subjects(settings.subject_prefix)
    router = NatsRouter()
    builtin_first = llm is None or settings.nl_engine != "llm"

    plans = router.publisher(subjects.plan_ready)
    proposals = router.publisher(subjects.sql_proposed)
    answers = router.publisher(subjects.answers_all)

    def builtin(question: QuestionAsked) -> QueryPlanned | QuestionAnswered:
        started = perf_counter()
        event = plan_question(question)
        metrics.plan_seconds.observe(perf_counter() - started)
        return event

    # Several questions in flight when a slow LLM may hold one; one at a time otherwise.
    subscriber = (
        router.subscriber(subjects.question_asked, queue=SERVICE)
        if llm is None
        else router.subscriber(
            subjects.question_asked, queue=SERVICE, max_workers=settings.llm_concurrency
        )
    )

    async def read(question: QuestionAsked) -> Planned:
        event: Planned | None = builtin(question) if builtin_first else None
        if llm is not None and _refused(event):
            event = await ask_llm(llm, question)
        assert event is not None  # the parser ran, or the LLM did
        metrics.questions.labels(_outcome(event), question.language, event.engine).inc()
        return event

    async def publish(event: Planned) -> None:
        if isinstance(event, QueryPlanned):
            await plans.publish(event)
        elif isinstance(event, SqlProposed):
            await proposals.publish(event)
        else:
            question_id = str(event.question.question_id)
            subject = subjects.answer(event.question.channel, question_id)
            await answers.publish(event, subject, headers=subjects.answer_headers(question_id))

    async def first_time(question: QuestionAsked) -> Planned:
        event = await read(question)
        await publish(event)
        if isinstance(event, QuestionAnswered):
            answered.answered(event)
        return event

    recent: RecentQuestions[Planned] = RecentQuestions()

    @subscriber
    async def plan(question: QuestionAsked) -> None:
        attempt = partial(first_time, question)
        seen = await recent.once(question.question_id, attempt, failed=_failed)
        if seen is None:
            return
        if seen.result is None:
            metrics.repeated.labels("dropped").inc()
        else:
            metrics.repeated.labels("replayed").inc()
            await publish(seen.result)

    return router
