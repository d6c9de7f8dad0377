"""Answering a planned question, or LLM-written SQL: the answer to publish, from the database
or the answer cache (tally.executor.cache; answers to LLM-written SQL never go through it).

No broker here: :mod:`tally.executor.handlers` calls these and publishes what they return.
"""

from datetime import UTC, datetime
from typing import Any, Final

import structlog

from tally.contracts.cache import CachedAnswer
from tally.contracts.events import (
    Language,
    Outcome,
    QueryPlanned,
    QuestionAnswered,
    SqlProposed,
)
from tally.executor.cache import AnswerCache, Lookup
from tally.executor.domain.coverage import cover, measures_growth, not_measured, partly_measured
from tally.executor.domain.firewall import Checked, FirewallRefusal, check
from tally.executor.domain.series import group_rows
from tally.executor.failures import ResultTooLargeError, fingerprint
from tally.executor.metrics import ExecutorMetrics
from tally.executor.runner import Reader
from tally.infra.errors import UserFacingError
from tally.semantic import catalog
from tally.semantic.compiler import CompiledQuery, compile_plan, sender_count
from tally.semantic.plan import QueryPlan
from tally.semantic.results import NotANumberError, single_number

MAX_REFUSED_SQL_CHARS = 2000
"""Characters of refused SQL kept in the answer (and so in the questions log)."""
_REFUSALS = (FirewallRefusal, ResultTooLargeError, NotANumberError)
"""Errors that make an LLM answer ``refused`` (a policy said no); others make it ``failed``."""

log = structlog.get_logger(__name__)


def _total_ms(planned: QueryPlanned | SqlProposed) -> float:
    return (datetime.now(UTC) - planned.question.asked_at).total_seconds() * 1000


async def _computed(plan: QueryPlan, query: CompiledQuery, reader: Reader) -> dict[str, Any]:
    """Run ``query`` (``plan`` compiled): the answer's value (or rows, for a grouped plan),
    row count and elapsed ms. Raises the reader's UserFacingErrors."""
    if plan.group_by is None:
        value, elapsed_ms = await reader.run(query)
        return {"value": value, "row_count": 1, "elapsed_ms": elapsed_ms}
    records, elapsed_ms = await reader.fetch_all(query.sql, *query.args)
    rows = group_rows(plan, records)
    return {"rows": rows, "row_count": len(rows), "elapsed_ms": elapsed_ms}


OUTSIDE_GROUP: dict[Language, str] = {
    "en": "Ask this in the group you want to know about: I answer questions about a chat only "
    "inside that chat.",
    "ru": "Спросите об этом в самой группе: на вопросы о чате я отвечаю только внутри этого чата.",
}


def chat_scope(planned: QueryPlanned) -> int | None:
    """The chat a plan over chat data may read: the group the question was asked in (group and
    supergroup ids are negative in Telegram). None for a plan over other data.

    Raises :class:`OutsideGroupError` when the plan reads chat data but the question was not
    asked in a group (a private chat, the terminal): there is no chat it may see.
    """
    if not catalog().chat_scoped(planned.plan.dataset):
        return None
    question = planned.question
    if question.chat_id >= 0:
        raise OutsideGroupError(OUTSIDE_GROUP[question.language])
    return question.chat_id


class OutsideGroupError(UserFacingError):
    """A question about a chat's data was asked outside any group chat."""


class GrowthNotMeasuredError(UserFacingError):
    """The plan asks for growth over hours no hourly snapshot covers."""


async def _within_snapshots(planned: QueryPlanned, reader: Reader) -> QueryPlanned:
    """``planned`` as it is, or with a note on the hours measured when its growth range is
    partly outside the snapshots. Raises GrowthNotMeasuredError when it is wholly outside."""
    if not measures_growth(planned.plan):
        return planned
    span = await reader.snapshot_span()
    language = planned.question.language
    match cover(planned.plan, span):
        case "none":
            raise GrowthNotMeasuredError(not_measured(span, language))
        case "partial":
            noted = planned.plan.interpretation + partly_measured(span, language)
            plan = planned.plan.model_copy(update={"interpretation": noted[:500]})
            return planned.model_copy(update={"plan": plan})
        case "full":
            return planned


class SenderUnclearError(UserFacingError):
    """No one, or more than one person, of the chat has the name the question gives."""


_NO_SENDER: Final[dict[Language, str]] = {
    "en": "No one called {name} has written in this chat, as far as I know. Ask with their "
    "@username.",
    "ru": "В этом чате не писал никто с именем {name}, насколько я знаю. Спросите по @username.",
}
_MANY_SENDERS: Final[dict[Language, str]] = {
    "en": "{count} people in this chat are called {name}: ask with their @username.",
    "ru": "В этом чате {count} человека с именем {name}: спросите по @username.",
}


async def _one_sender(planned: QueryPlanned, chat_id: int | None, reader: Reader) -> None:
    """Raise SenderUnclearError unless exactly one person of the chat has the plan's sender
    name (a plan without one passes)."""
    sender = planned.plan.sender
    if sender is None or sender.name is None or chat_id is None:
        return
    query = sender_count(planned.plan, chat_id)
    count = int(await reader.fetch_value(query.sql, *query.args))
    language = planned.question.language
    if count == 0:
        raise SenderUnclearError(_NO_SENDER[language].format(name=sender.name))
    if count > 1:
        raise SenderUnclearError(_MANY_SENDERS[language].format(count=count, name=sender.name))


_REFUSING = (OutsideGroupError, GrowthNotMeasuredError, SenderUnclearError)
"""Errors that make a plan's answer ``refused`` (it cannot be answered); others ``failed``."""


async def answer(planned: QueryPlanned, reader: Reader) -> QuestionAnswered:
    """Compile and run ``planned``; a failure becomes a ``failed`` answer with a reason.

    A grouped plan is answered with ``rows`` (top-N in rank order, a series with every bucket
    of its time range) and no ``value``. A plan over chat data reads only the asking group's
    rows (:func:`chat_scope`); asked outside a group, it is ``refused``, as is growth over
    hours no snapshot measured (:mod:`tally.executor.domain.coverage`).
    """
    query: CompiledQuery | None = None
    try:
        scope = chat_scope(planned)
        planned = await _within_snapshots(planned, reader)
        await _one_sender(planned, scope, reader)
        query = compile_plan(planned.plan, scope)
        computed = await _computed(planned.plan, query, reader)
    except UserFacingError as error:
        outcome: Outcome = "refused" if isinstance(error, _REFUSING) else "failed"
        sql = {"sql": query.sql, "params": query.params} if query else {}
        return QuestionAnswered(
            question=planned.question,
            plan=planned.plan,
            engine=planned.engine,
            outcome=outcome,
            reason=error.message,
            total_ms=_total_ms(planned),
            **sql,
        )
    return QuestionAnswered(
        question=planned.question,
        plan=planned.plan,
        engine=planned.engine,
        sql=query.sql,
        params=query.params,
        **computed,
        outcome="answered",
        interpretation=planned.plan.interpretation,
        total_ms=_total_ms(planned),
    )


def _from_cache(planned: QueryPlanned, cached: CachedAnswer) -> QuestionAnswered:
    """The answer to ``planned`` from a cached one: this question's interpretation, no time
    spent in the database."""
    return QuestionAnswered(
        question=planned.question,
        outcome="answered",
        interpretation=planned.plan.interpretation,
        plan=planned.plan,
        engine=planned.engine,
        total_ms=_total_ms(planned),
        cached=True,
        **cached.model_dump(exclude={"versions"}),
    )


async def answer_cached(
    planned: QueryPlanned, reader: Reader, cache: AnswerCache
) -> tuple[QuestionAnswered, Lookup]:
    """The cached answer to ``planned`` when there is a current one, else :func:`answer`;
    with the cache lookup, for :func:`remember` once the answer is on its way."""
    lookup = await cache.lookup(planned.plan)
    if lookup.answer is not None:
        return _from_cache(planned, lookup.answer), lookup
    return await answer(planned, reader), lookup


async def remember(cache: AnswerCache, lookup: Lookup, result: QuestionAnswered) -> None:
    """Store a freshly ``answered`` result with the versions it was computed from.

    Called after the answer is published, so a miss costs the asker no extra round trip; an
    entry stored with versions that have moved since is simply a miss later.
    """
    if result.cached or lookup.versions is None or result.outcome != "answered":
        return
    fields = result.model_dump(include={"value", "rows", "sql", "params", "row_count"})
    await cache.store(lookup.key, CachedAnswer(versions=lookup.versions, **fields))


def _reply(proposed: SqlProposed, outcome: Outcome, **fields: Any) -> QuestionAnswered:
    return QuestionAnswered(
        question=proposed.question,
        outcome=outcome,
        engine=proposed.engine,
        total_ms=_total_ms(proposed),
        **fields,
    )


def _firewalled(proposed: SqlProposed, reader: Reader, metrics: ExecutorMetrics) -> Checked:
    try:
        checked = check(proposed.sql, row_cap=reader.settings.firewall_max_rows)
    except FirewallRefusal as refusal:
        metrics.firewall.labels("refused").inc()
        log.warning("sql refused", reason=refusal.message, query=fingerprint(proposed.sql))
        raise
    metrics.firewall.labels("accepted").inc()
    return checked


async def answer_sql(
    proposed: SqlProposed, reader: Reader, metrics: ExecutorMetrics
) -> QuestionAnswered:
    """Run LLM-written SQL only if the firewall accepts it; answer with its single number.

    A firewall refusal, a result past ``firewall_max_bytes`` or one that is not one row of one
    number gives a ``refused`` answer saying why (with the refused SQL, truncated); a database
    error a ``failed`` one. Accepted SQL runs as re-rendered, capped by ``firewall_max_rows``.
    """
    try:
        checked = _firewalled(proposed, reader, metrics)
    except FirewallRefusal as refusal:
        sql = proposed.sql[:MAX_REFUSED_SQL_CHARS]
        return _reply(proposed, "refused", reason=refusal.message, sql=sql)
    try:
        rows, elapsed_ms = await reader.fetch_rows(
            checked.sql, max_bytes=reader.settings.firewall_max_bytes
        )
    except UserFacingError as error:
        outcome: Outcome = "refused" if isinstance(error, _REFUSALS) else "failed"
        return _reply(proposed, outcome, reason=error.message, sql=checked.sql)
    return _numeric_reply(proposed, checked, rows, elapsed_ms)


def _numeric_reply(
    proposed: SqlProposed, checked: Checked, rows: list[tuple[Any, ...]], elapsed_ms: float
) -> QuestionAnswered:
    shape = {"sql": checked.sql, "row_count": len(rows), "elapsed_ms": elapsed_ms}
    try:
        value = single_number(rows)
    except NotANumberError as error:
        return _reply(proposed, "refused", reason=error.message, **shape)
    interpretation = proposed.interpretation or None
    return _reply(proposed, "answered", value=value, interpretation=interpretation, **shape)
