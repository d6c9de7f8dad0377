"""A question into the event that answers it, by either engine (no broker here).

``plan_question`` runs the built-in parser (synchronous: the hot path awaits nothing);
``ask_llm`` asks the LLM engine. Each returns the event to publish: a QueryPlanned, an
SqlProposed (LLM only), or a QuestionAnswered that offers readings to pick from (parser
only), refuses, or reports a failure.
"""

from datetime import UTC, date, datetime
from time import perf_counter
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog

from tally.contracts.events import (
    Choice,
    Outcome,
    QueryPlanned,
    QuestionAnswered,
    QuestionAsked,
    SqlProposed,
)
from tally.language import Readings, Refusal, failure_reason, parse
from tally.nl2sql.llm import LlmEngine, LlmResult, LlmUnavailable, ProposedSql, texts

Planned = QueryPlanned | SqlProposed | QuestionAnswered
log = structlog.get_logger(__name__)


def _ms_since(asked_at: datetime) -> float:
    return (datetime.now(UTC) - asked_at).total_seconds() * 1000


def _today(question: QuestionAsked) -> date:
    return question.asked_at.astimezone(UTC).date()


def _local_today(question: QuestionAsked) -> date:
    """Today on the calendar of the asking chat (UTC when its zone is unknown)."""
    try:
        return question.asked_at.astimezone(ZoneInfo(question.timezone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return _today(question)


def _answer(
    question: QuestionAsked, outcome: Outcome, refusal: Refusal, *, builtin: bool
) -> QuestionAnswered:
    return QuestionAnswered(
        question=question,
        outcome=outcome,
        reason=refusal.reason,
        examples=refusal.examples,
        engine="builtin" if builtin else "llm",
        total_ms=_ms_since(question.asked_at),
    )


def _ambiguous(question: QuestionAsked, readings: Readings) -> QuestionAnswered:
    """The ask-back: each reading's interpretation as the label of its choice."""
    return QuestionAnswered(
        question=question,
        outcome="ambiguous",
        reason=readings.question,
        choices=tuple(
            Choice(label=plan.interpretation[:200], plan=plan) for plan in readings.plans
        ),
        engine="builtin",
        total_ms=_ms_since(question.asked_at),
    )


def plan_question(question: QuestionAsked) -> QueryPlanned | QuestionAnswered:
    """The built-in parser's plan for ``question``, or its answer: ``ambiguous`` (two or
    three readings as choices), ``refused`` (with examples) or ``failed``. "Today" is the UTC
    calendar day of ``question.asked_at``."""
    started = perf_counter()
    language = question.language
    try:
        result = parse(
            question.text,
            language=language,
            today=_today(question),
            chat_zone=question.timezone,
            chat_today=_local_today(question),
        )
    except Exception:  # the asker gets a sentence, the operator the traceback in the log
        log.exception("parser failed", question_id=str(question.question_id))
        return _answer(question, "failed", Refusal(failure_reason(language), ()), builtin=True)
    if isinstance(result, Refusal):
        return _answer(question, "refused", result, builtin=True)
    if isinstance(result, Readings):
        return _ambiguous(question, result)
    planned_ms = (perf_counter() - started) * 1000
    return QueryPlanned(question=question, plan=result, engine="builtin", planned_ms=planned_ms)


async def ask_llm(engine: LlmEngine, question: QuestionAsked) -> Planned:
    """The LLM engine's event for ``question``: a plan, SQL for the firewall, a refusal,
    or ``failed`` (with a sentence and examples) when the model did not answer."""
    started = perf_counter()
    result = await _read(engine, question)
    planned_ms = (perf_counter() - started) * 1000
    if isinstance(result, QuestionAnswered):
        return result
    if isinstance(result, Refusal):
        return _answer(question, "refused", result, builtin=False)
    if isinstance(result, ProposedSql):
        return SqlProposed(
            question=question,
            sql=result.sql,
            interpretation=result.interpretation,
            planned_ms=planned_ms,
        )
    return QueryPlanned(question=question, plan=result, engine="llm", planned_ms=planned_ms)


async def _read(engine: LlmEngine, question: QuestionAsked) -> LlmResult | QuestionAnswered:
    """The engine's result, or the ``failed`` answer when it raised."""
    language = question.language
    try:
        return await engine.read(question.text, language=language, today=_today(question))
    except LlmUnavailable as error:
        log.warning("llm unavailable", kind=error.kind, question_id=str(question.question_id))
        refusal = Refusal(texts.unavailable(language), texts.examples(language))
    except Exception:  # the asker gets a sentence, the operator the traceback in the log
        log.exception("llm engine failed", question_id=str(question.question_id))
        refusal = Refusal(failure_reason(language), ())
    return _answer(question, "failed", refusal, builtin=False)
