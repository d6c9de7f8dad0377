"""The built-in parser: a question in English or Russian into a :class:`QueryPlan`, the
readings to choose from when it has several, or a refusal.

It reads the phrases it knows (dates, hour windows, video and creator ids, rankings, series,
comparisons, what is counted) and refuses when anything left could change the meaning: it
never guesses. When a question has two or three sensible readings ("views in November":
of videos published in November, or gained during November), it returns them all as
:class:`Readings` for the asker to pick. Offline and deterministic; a question takes well
under a millisecond.

The steps, each in its module: :mod:`taken` reads the phrases of known shape, :mod:`signals`
what the remaining words say, :mod:`leftover` refuses what could change the meaning,
:mod:`build` makes the plan (:mod:`readings` the alternatives when it is unsure), and
:mod:`describe` words each plan's interpretation. A question about the chat it is asked
in is read here, with :mod:`chat` and :mod:`chat_filters`.
"""

from datetime import date

from tally.contracts.events import Language
from tally.language import vocabulary as words
from tally.language.accounting import as_written, require_all_placed
from tally.language.build import build, grouping_of, time_range_of
from tally.language.chat import TIME_COLUMN as CHAT_TIME_COLUMN
from tally.language.chat import chat_measure, is_chat_question
from tally.language.chat_filters import take_chat_filters
from tally.language.describe import describe
from tally.language.leftover import account, check_leftover
from tally.language.lexicon import canonicalize
from tally.language.readings import other_readings
from tally.language.refusal import Readings, Refusal, readings, refusal
from tally.language.scan import Scan, Unclear
from tally.language.signals import read_signals, with_growth
from tally.language.taken import Taken, take_phrases
from tally.semantic.plan import Calendar, Dataset, QueryPlan


def _chat_plan(scan: Scan, taken: Taken, zone: str) -> QueryPlan:
    """A question about the chat it is asked in (see :mod:`chat`)."""
    video_only = (taken.excluded, taken.pairs, taken.fraction, taken.share, taken.period)
    if taken.comparisons or taken.video or taken.creator or any(video_only):
        raise Unclear("unknown")
    chat_filters = take_chat_filters(scan)
    dataset, measure, filters, _ = chat_measure(scan, taken.ranking, typed=chat_filters.typed)
    if chat_filters.filters and dataset is not Dataset.MESSAGES:
        raise Unclear("unknown")
    filters += chat_filters.filters
    for pattern in (words.INJECTION, words.NEGATION, words.LEFTOVER):
        if scan.has(pattern):
            raise Unclear("unknown")
    if scan.has(words.UNSUPPORTED):
        raise Unclear("unsupported")
    if scan.has(words.LEFTOVER_DATE):
        raise Unclear("date")
    require_all_placed(scan)
    time_range, calendar = None, None
    column = CHAT_TIME_COLUMN[dataset]
    if taken.span:
        time_range = time_range_of(column, taken.span, taken.hours, zone)
    if taken.calendar:
        days, hours = taken.calendar.weekdays, taken.calendar.hours
        calendar = Calendar(column=column, weekdays=days, hours=hours, timezone=zone)
    return QueryPlan(
        dataset=dataset,
        measure=measure,
        filters=filters,
        time_range=time_range,
        group_by=grouping_of(taken, time_range),
        calendar=calendar,
        sender=chat_filters.sender,
        interpretation="",
    )


def _plans(scan: Scan, today: date, chat_zone: str, chat_today: date) -> list[QueryPlan]:
    """One plan, or two or three readings; raises :class:`Unclear` when there is none."""
    if is_chat_question(scan):
        return [_chat_plan(scan, take_phrases(scan, chat_today), chat_zone)]
    taken = take_phrases(scan, today)
    signals = with_growth(read_signals(scan, taken), taken.span, bool(taken.comparisons))
    check_leftover(scan, signals)
    if signals.target != "creator" and scan.has(words.CREATOR) and taken.creator is None:
        raise Unclear("creator")
    try:
        plans = [build(signals, taken)]
    except Unclear as unclear:
        plans = other_readings(signals, taken, unclear)
    account(scan, plans)
    return plans


def parse(
    text: str,
    *,
    language: Language,
    today: date,
    chat_zone: str = "UTC",
    chat_today: date | None = None,
) -> QueryPlan | Readings | Refusal:
    """The plan for a question; :class:`Readings` (two or three plans, each with its
    interpretation) when it has several sensible meanings; or a :class:`Refusal` when it
    cannot be read with certainty.

    ``today`` (a UTC calendar day) resolves "yesterday" and dates without a year (the most
    recent such day or month not after ``today``). Dates are UTC calendar days; a range
    includes both its ends, so its ``TimeRange`` ends at 00:00 UTC of the day after; an
    hour window "10:00-15:00" is ``[10:00, 15:00)`` UTC of its day. A question about the
    chat it is asked in reads its dates on the chat's calendar instead: ``chat_zone`` (an
    IANA name) and ``chat_today`` (today there; ``today`` when not given).
    The plan's ``interpretation`` and the refusal's texts are in ``language``.
    """
    try:
        plans = _plans(Scan.of(canonicalize(text)), today, chat_zone, chat_today or today)
        described = [_described(plan, language) for plan in plans]
    except Unclear as unclear:
        return refusal(unclear.reason, language, as_written(text, unclear.words))
    return described[0] if len(described) == 1 else readings(described, language)


def _described(plan: QueryPlan, language: Language) -> QueryPlan:
    """``plan`` with its interpretation. A plan the describer has no words for (a ranking by
    a median, a top of people in a video question) is one nobody wrote wording for, so
    nobody checked it either: raises ``Unclear("unsupported")``, and the question is refused
    rather than answered without an interpretation."""
    try:
        return plan.model_copy(update={"interpretation": describe(plan, language)})
    except KeyError as missing:
        raise Unclear("unsupported") from missing
