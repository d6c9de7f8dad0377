"""The built-in parser: a question in English or Russian into a :class:`QueryPlan`, the
readings to choose from when it has several, or a refusal.

It reads the phrases it knows (dates, hour windows, video and creator ids, rankings, series,
comparisons, what is counted) and refuses when anything left could change the meaning: it
never guesses. When a question has two or three sensible readings ("views in November":
of videos published in November, or gained during November), it returns them all as
:class:`Readings` for the asker to pick. Offline and deterministic; a question takes well
under a millisecond.
"""

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from tally.contracts.events import Language
from tally.language import vocabulary as words
from tally.language.accounting import as_written, require_all_placed
from tally.language.chat import TIME_COLUMN as CHAT_TIME_COLUMN
from tally.language.chat import chat_measure, is_chat_question
from tally.language.chat_filters import take_chat_filters
from tally.language.constructs import (
    Bound,
    CalendarWords,
    take_calendar,
    take_counter_comparisons,
    take_excluded_creator,
    take_percentile,
    take_period,
    take_ranges,
    take_share,
    take_some,
)
from tally.language.dates import DaySpan, take_span
from tally.language.describe import describe
from tally.language.grouping import Ranking, take_ranking, take_series
from tally.language.hours import HourWindow, take_hours
from tally.language.lexicon import canonicalize
from tally.language.numbers import read_number
from tally.language.refusal import Readings, Refusal, readings, refusal
from tally.language.scan import Scan, Unclear
from tally.semantic.plan import (
    EARLIEST,
    LATEST,
    MAX_SERIES,
    Aggregate,
    Calendar,
    Comparison,
    Dataset,
    Dimension,
    Filter,
    Grouping,
    Measure,
    Op,
    Period,
    QueryPlan,
    TimeRange,
)

_WORD: Final = re.compile(r"\w+")
_ENTITIES: Final = (
    ("video", words.VIDEO),
    ("creator", words.CREATOR),
    ("snapshot", words.SNAPSHOT),
)
_AGGREGATES: Final = (
    (Aggregate.AVG, words.AVERAGE),
    (Aggregate.MEDIAN, words.MEDIAN),
    (Aggregate.MAX, words.MAXIMUM),
    (Aggregate.MIN, words.MINIMUM),
    (Aggregate.SUM, words.SUM),
)


@dataclass(frozen=True, slots=True)
class _Signals:
    """What the words of the question say, once dates, ids and comparisons are taken."""

    target: str | None
    """What "how many" asks about: "video", "creator", "snapshot" or a counter column."""
    aggregate: Aggregate | None
    counters: frozenset[str]
    growth: bool
    decline: bool
    delta: bool
    snapshot: bool
    published: bool
    acquired: bool

    @property
    def dataset(self) -> Dataset:
        if self.snapshot or self.growth or self.decline or self.delta:
            return Dataset.SNAPSHOTS
        return Dataset.VIDEOS

    def counter(self) -> str:
        """The one counter the question names; raises :class:`Unclear` ("counter") otherwise."""
        if len(self.counters) != 1:
            raise Unclear("counter")
        return next(iter(self.counters))

    def column(self, counter: str) -> str:
        """``counter`` itself, or its ``delta_`` column when the question is about change."""
        changes = self.growth or self.decline or self.delta
        return f"delta_{counter}" if self.dataset is Dataset.SNAPSHOTS and changes else counter


@dataclass(frozen=True, slots=True)
class _Taken:
    """The phrases read from the question before its words are weighed."""

    span: DaySpan | None
    hours: HourWindow | None
    video: str | None
    creator: str | None
    ranking: Ranking | None
    series: Dimension | None
    comparisons: tuple[Bound, ...]
    excluded: str | None = None
    """A creator left out: "except creator X"."""
    pairs: tuple[Comparison, ...] = ()
    calendar: CalendarWords | None = None
    fraction: float | None = None
    """The percentile asked for, as a fraction."""
    share: bool = False
    period: Period | None = None
    """Distinct days, weeks or months counted."""


def _take_video(scan: Scan) -> str | None:
    """A video's UUID ("video 0f8c…-…"), lower-cased; the word "video" before it is taken."""
    match = next(iter(scan.take(words.VIDEO_ID)), None)
    return match["id"].lower() if match else None


def _take_creator(scan: Scan) -> str | None:
    for match in words.CREATOR_ID.finditer(scan.text):
        if match["marker"] or any(char.isdigit() for char in match["id"]):
            scan.blank(*match.span())
            return match["id"]
    return None


def _comparison(match: re.Match[str]) -> Bound:
    op = next(op for op in Op if match.groupdict().get(op.name))
    return Bound(words.counter_of(match), op, read_number(match["number"], match["multiplier"]))


def _take_comparisons(scan: Scan) -> list[Bound]:
    matches = [
        match
        for pattern in (words.COMPARISON, words.COMPARISON_AFTER, words.COMPARISON_PLUS)
        for match in scan.take(pattern)
    ]
    comparisons = [_comparison(match) for match in matches]
    zeros = scan.take(words.COMPARISON_NONE)
    return comparisons + [Bound(words.counter_of(match), Op.EQ, 0) for match in zeros]


def _kind(word: str) -> str | None:
    for kind, pattern in _ENTITIES:
        if pattern.fullmatch(word):
            return kind
    counter = words.COUNTER.fullmatch(word)
    return words.counter_of(counter) if counter else None


def _skipped(word: str) -> bool:
    """Words between "how many" and what is counted: "total", "разных", "выросли"."""
    return any(p.fullmatch(word) for p in (words.FILLER, words.GROWTH, words.ACQUIRED))


def _target(text: str) -> str | None:
    """The first thing named after "how many" (skipping words like "total", "разных")."""
    for count in words.COUNT.finditer(text):
        kind = None
        for word in _WORD.finditer(text, count.end()):
            kind = _kind(word.group())
            if kind or not _skipped(word.group()):
                break
        if kind:
            return kind
        if not _WORD.search(text, count.end()):
            return _first_kind(text)
    return None


def _first_kind(text: str) -> str | None:
    """What is counted when "how many" ends the question: "Videos in May: how many?"."""
    return next(filter(None, (_kind(word.group()) for word in _WORD.finditer(text))), None)


def _take_aggregate(scan: Scan, target: str | None) -> Aggregate | None:
    """The aggregate named; "view growth on …" with no "how many" is a sum."""
    found = [aggregate for aggregate, pattern in _AGGREGATES if scan.take(pattern)]
    if len(set(found)) > 1:  # "the total maximum": which one?
        raise Unclear("unknown")
    if not found and target is None and scan.has(words.GROWTH_NOUN):
        return Aggregate.SUM
    return found[0] if found else None


ANY_COUNTER: Final = "counter"
"""The target of a ranking or a video's question that names no counter: offered as readings."""


def _grouped_target(scan: Scan, taken: _Taken, counters: frozenset[str]) -> str | None:
    """What a ranking or series without "how many" measures: the one counter it names, or
    for creators ranked by "the most videos" their videos."""
    if taken.ranking and taken.ranking.counter:
        return taken.ranking.counter
    if len(counters) == 1:
        return next(iter(counters))
    if taken.ranking and taken.ranking.entity == "creator" and scan.has(words.VIDEO):
        return "video"
    return ANY_COUNTER if taken.ranking or taken.video else None


def _subject(taken: _Taken, target: str | None) -> str | None:
    """The counter asked about a ranked entity when it is not the one it is ranked by ("how
    many comments does the most liked video have": comments), else None."""
    ranked_by = taken.ranking.counter if taken.ranking else None
    if ranked_by and target and target.endswith("_count") and target != ranked_by:
        return target
    return None


def _read_signals(scan: Scan, taken: _Taken) -> _Signals:
    target = _target(scan.text)
    if subject := _subject(taken, target):
        return _signals(scan, target, frozenset({subject}))
    if taken.share or taken.period:
        target = _first_kind(scan.text) if taken.share else "period"
        if taken.share and target not in ("video", "snapshot"):
            raise Unclear("unknown")
    counters = frozenset(words.counter_of(m) for m in words.COUNTER.finditer(scan.text))
    if taken.ranking and taken.ranking.counter:
        counters = frozenset({taken.ranking.counter})
    if target is None and (taken.ranking or taken.series or taken.video):
        target = _grouped_target(scan, taken, counters)
    return _signals(scan, target, counters, taken.fraction)


def _signals(
    scan: Scan, target: str | None, counters: frozenset[str], fraction: float | None = None
) -> _Signals:
    return _Signals(
        target=target,
        aggregate=_aggregate(scan, target, fraction),
        counters=counters,
        growth=scan.has(words.GROWTH),
        decline=scan.has(words.DECLINE),
        delta=scan.has(words.DELTA),
        snapshot=scan.has(words.SNAPSHOT),
        published=scan.has(words.PUBLISHED),
        acquired=scan.has(words.ACQUIRED),
    )


def _with_growth(signals: _Signals, span: DaySpan | None, compared: bool) -> _Signals:
    """ "Videos that got views on <day>" is growth that day: a getting verb, a counter and a
    day, with no publication word and no threshold ("got more than 1000 views" is a total)."""
    if signals.acquired and span and signals.counters and not (signals.published or compared):
        return replace(signals, growth=True)
    return signals


def _check_leftover(scan: Scan, signals: _Signals) -> None:
    """Refuse when words the parser did not read could change the meaning."""
    if signals.target is None and signals.aggregate is None:
        _name_unplaced(scan)
        raise Unclear("unknown")
    if scan.has(words.INJECTION):
        raise Unclear("unknown")
    if scan.has(words.UNSUPPORTED):
        raise Unclear("unsupported")
    if scan.has(words.LEFTOVER_DATE):
        raise Unclear("date")
    if scan.has(words.NEGATION) or scan.has(words.LEFTOVER):
        raise Unclear("unknown")
    if signals.target == "creator" and (quantifier := words.UNIVERSAL.search(scan.text)):
        raise Unclear("unplaced", words=(quantifier.group(),))


def _name_unplaced(scan: Scan) -> None:
    """Raise :class:`Unclear` ("unplaced") naming the words of a question that could not be
    read at all ("how many trending videos") when some are not words the parser reads."""
    rest = Scan(scan.text)
    for pattern in (*_READ_WORDS, words.COUNTER, words.AVERAGE, words.MAXIMUM, words.MINIMUM):
        rest.take(pattern)
    require_all_placed(rest)


def _aggregate(scan: Scan, target: str | None, fraction: float | None) -> Aggregate | None:
    """The aggregate named, a percentile when one was asked for."""
    aggregate = _take_aggregate(scan, target)
    if fraction is not None and aggregate not in (None, Aggregate.SUM):
        raise Unclear("unknown")
    return Aggregate.PERCENTILE if fraction is not None else aggregate


_STATISTICS: Final = (
    Aggregate.AVG,
    Aggregate.MAX,
    Aggregate.MIN,
    Aggregate.MEDIAN,
    Aggregate.PERCENTILE,
)


def _measure(signals: _Signals, taken: _Taken) -> Measure:
    target, aggregate = signals.target, signals.aggregate
    if target == ANY_COUNTER:
        raise Unclear("counter")
    if taken.period:
        if aggregate is not None:
            raise Unclear("unknown")
        return Measure(aggregate=Aggregate.COUNT_DISTINCT, period=taken.period)
    if aggregate in _STATISTICS or (target is None and aggregate):
        if target in ("video", "creator", "snapshot"):
            raise Unclear("unknown")
        column = signals.column(signals.counter())
        return Measure(aggregate=aggregate, column=column, fraction=taken.fraction)
    if target and target.endswith("_count"):
        return Measure(aggregate=Aggregate.SUM, column=signals.column(signals.counter()))
    return _count(signals)


def _count(signals: _Signals) -> Measure:
    snapshots = signals.dataset is Dataset.SNAPSHOTS
    if signals.target == "video":
        if snapshots:
            return Measure(aggregate=Aggregate.COUNT_DISTINCT, column="video_id")
        return Measure(aggregate=Aggregate.COUNT)
    if signals.target == "creator":
        return Measure(aggregate=Aggregate.COUNT_DISTINCT, column="creator_id")
    if signals.target == "snapshot":
        return Measure(aggregate=Aggregate.COUNT)
    raise Unclear("unknown")


def _change_filters(signals: _Signals, measure: Measure, compared: bool) -> list[Filter]:
    """``delta > 0`` for "gained views", ``delta < 0`` for "lost views" / "negative deltas"."""
    if signals.dataset is Dataset.VIDEOS or not (signals.growth or signals.decline):
        return []
    op = Op.LT if signals.decline else Op.GT
    if measure.aggregate not in (Aggregate.COUNT, Aggregate.COUNT_DISTINCT):
        return (
            [Filter(column=measure.column, op=op, value=0)]
            if signals.decline and measure.column
            else []
        )
    if compared and signals.target != "snapshot":
        raise Unclear("growth_threshold")
    if compared:
        return []
    return [Filter(column=f"delta_{signals.counter()}", op=op, value=0)]


def _filters(signals: _Signals, measure: Measure, taken: _Taken) -> tuple[Filter, ...]:
    filters = [
        Filter(column=signals.column(c.counter), op=c.op, value=c.value) for c in taken.comparisons
    ]
    filters += _change_filters(signals, measure, bool(taken.comparisons))
    if taken.video:
        column = "id" if signals.dataset is Dataset.VIDEOS else "video_id"
        filters.append(Filter(column=column, op=Op.EQ, value=taken.video))
    if taken.creator:
        filters.append(Filter(column="creator_id", op=Op.EQ, value=taken.creator))
    if taken.excluded:
        if taken.excluded == taken.creator:
            raise Unclear("creator")
        filters.append(Filter(column="creator_id", op=Op.NE, value=taken.excluded))
    return tuple(filters)


def _time_column(signals: _Signals, measure: Measure, filters: tuple[Filter, ...]) -> str:
    """Which time the date is about; raises :class:`Unclear` ("date_meaning") when unsure."""
    if signals.dataset is Dataset.SNAPSHOTS:
        if signals.published:
            raise Unclear("date_meaning")
        return "created_at"
    counts = measure.aggregate is Aggregate.COUNT or measure.column == "creator_id"
    if signals.published or (counts and not any(f.column.endswith("_count") for f in filters)):
        return "video_created_at"
    raise Unclear("date_meaning")


def _at(day: date, offset: timedelta, zone: str) -> datetime:
    """``offset`` after midnight of ``day`` on the wall clock of ``zone``, as a UTC instant."""
    wall = datetime.combine(day, time()) + offset
    return wall.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _time_range(
    column: str, span: DaySpan, hours: HourWindow | None, zone: str = "UTC"
) -> TimeRange:
    """The half-open range ``[first 00:00, last + 1 day 00:00)`` on the calendar of ``zone``,
    or with an hour window (one day only) ``[day + start, day + end)``; raises
    :class:`Unclear` ("hours") for an hour window over several days."""
    first, last = span.first, span.last + timedelta(days=1)
    start, end = _at(first, timedelta(), zone), _at(last, timedelta(), zone)
    start, end = EARLIEST if span.before else start, LATEST if span.after else end
    if hours:
        if span.first != span.last or span.before or span.after:
            raise Unclear("hours")
        start, end = _at(first, hours.start, zone), _at(first, hours.end, zone)
    return TimeRange.model_validate(
        {"column": column, "start": start, "end": end, "timezone": zone}
    )


def _grouping(
    taken: _Taken, time_range: TimeRange | None, rank_by: Measure | None = None
) -> Grouping | None:
    """The plan's grouping; raises :class:`Unclear` ("series_range") for a series without a
    period, ("series_long") for one longer than the plan allows."""
    if taken.ranking:
        order = "desc" if taken.ranking.descending else "asc"
        ranking = taken.ranking
        return Grouping(by=ranking.dimension, order=order, limit=ranking.limit, rank_by=rank_by)
    if taken.series is None:
        return None
    if time_range is None:
        raise Unclear("series_range")
    if time_range.end - time_range.start > MAX_SERIES[taken.series]:
        raise Unclear("series_long")
    return Grouping(by=taken.series)


def _take(scan: Scan, today: date) -> _Taken:
    """Every phrase of known shape, in an order where none can swallow another's words."""
    if scan.has(words.WRITE):
        raise Unclear("read_only")
    period, share, fraction = take_period(scan), take_share(scan), take_percentile(scan)
    hours = take_hours(scan)
    calendar = take_calendar(scan)
    span = take_span(scan, today)
    if hours and span is None:
        raise Unclear("hours")
    video = _take_video(scan)
    excluded = take_excluded_creator(scan)
    creator = _take_creator(scan)
    ranking = take_ranking(scan)
    series = take_series(scan)
    if ranking and series:
        raise Unclear("unknown")
    if ranking or series:
        scan.take(words.SHOW)
    pairs = take_counter_comparisons(scan)
    bounds = take_ranges(scan) + _take_comparisons(scan) + take_some(scan)
    scan.take(words.ALL_TIME)
    return _Taken(
        span,
        hours,
        video,
        creator,
        ranking,
        series,
        tuple(bounds),
        excluded=excluded,
        pairs=pairs,
        calendar=calendar,
        fraction=fraction,
        share=share,
        period=period,
    )


def _share(
    measure: Measure, filters: tuple[Filter, ...], taken: _Taken
) -> tuple[Measure, tuple[Filter, ...]]:
    """A share: the counter conditions are what is measured, the rest the set it is out of.
    Raises :class:`Unclear` ("unknown") when no counter condition is named."""
    where = tuple(f for f in filters if f.column.endswith("_count"))
    if not where or taken.pairs or measure.aggregate is not Aggregate.COUNT:
        raise Unclear("unknown")
    rest = tuple(f for f in filters if f not in where)
    return Measure(aggregate=Aggregate.SHARE, where=where), rest


def _rank_by(signals: _Signals, taken: _Taken, measure: Measure) -> Measure | None:
    """The measure a superlative ranks by when the question asks about another counter."""
    ranked_by = taken.ranking.counter if taken.ranking else None
    if ranked_by is None or measure.column is None:
        return None
    column = signals.column(ranked_by)
    return None if column == measure.column else Measure(aggregate=measure.aggregate, column=column)


def _build(signals: _Signals, taken: _Taken) -> QueryPlan:
    measure = _measure(signals, taken)
    filters = _filters(signals, measure, taken)
    time_range, calendar = None, None
    if taken.span:
        column = _time_column(signals, measure, filters)
        time_range = _time_range(column, taken.span, taken.hours)
    if taken.calendar:
        column = time_range.column if time_range else _time_column(signals, measure, filters)
        calendar = Calendar(
            column=column, weekdays=taken.calendar.weekdays, hours=taken.calendar.hours
        )
    if taken.share:
        measure, filters = _share(measure, filters, taken)
    return QueryPlan(
        dataset=signals.dataset,
        measure=measure,
        filters=filters,
        time_range=time_range,
        group_by=_grouping(taken, time_range, _rank_by(signals, taken, measure)),
        comparisons=taken.pairs,
        calendar=calendar,
        interpretation="",
    )


def _alternatives(signals: _Signals, taken: _Taken, reason: str) -> list[_Signals]:
    """The readings worth offering when a question is unclear for ``reason``: the date as
    publication or as the time of growth (of the snapshots, for counts); views, likes or
    comments when none is named (views, likes or number of videos for ranked creators)."""
    if reason == "date_meaning" and signals.dataset is Dataset.VIDEOS:
        counts = signals.target in ("video", "creator")
        other = replace(signals, snapshot=True) if counts else replace(signals, growth=True)
        return [replace(signals, published=True), other]
    if reason == "counter" and signals.target == ANY_COUNTER:
        targets = ["views_count", "likes_count", "comments_count"]
        if taken.ranking and taken.ranking.entity == "creator":
            targets[-1] = "video"
        return [
            replace(signals, target=target, counters=frozenset({target} - {"video"}))
            for target in targets
        ]
    return []


def _readings(signals: _Signals, taken: _Taken, unclear: Unclear) -> list[QueryPlan]:
    """Each alternative reading that builds a plan, or ``unclear`` raised again."""
    plans = []
    for alternative in _alternatives(signals, taken, unclear.reason):
        try:
            plans.append(_build(alternative, taken))
        except Unclear:
            continue
    if len(plans) < 2:
        raise unclear
    return plans


def _chat_plan(scan: Scan, taken: _Taken, zone: str) -> QueryPlan:
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
        time_range = _time_range(column, taken.span, taken.hours, zone)
    if taken.calendar:
        days, hours = taken.calendar.weekdays, taken.calendar.hours
        calendar = Calendar(column=column, weekdays=days, hours=hours, timezone=zone)
    return QueryPlan(
        dataset=dataset,
        measure=measure,
        filters=filters,
        time_range=time_range,
        group_by=_grouping(taken, time_range),
        calendar=calendar,
        sender=chat_filters.sender,
        interpretation="",
    )


def _plans(scan: Scan, today: date, chat_zone: str, chat_today: date) -> list[QueryPlan]:
    """One plan, or two or three readings; raises :class:`Unclear` when there is none."""
    if is_chat_question(scan):
        return [_chat_plan(scan, _take(scan, chat_today), chat_zone)]
    taken = _take(scan, today)
    signals = _with_growth(_read_signals(scan, taken), taken.span, bool(taken.comparisons))
    _check_leftover(scan, signals)
    if signals.target != "creator" and scan.has(words.CREATOR) and taken.creator is None:
        raise Unclear("creator")
    try:
        plans = [_build(signals, taken)]
    except Unclear as unclear:
        plans = _readings(signals, taken, unclear)
    _account(scan, plans)
    return plans


_READ_WORDS: Final = (
    words.COUNT,
    words.FILLER,
    words.VIDEO,
    words.CREATOR,
    words.SNAPSHOT,
    words.GROWTH,
    words.GROWTH_NOUN,
    words.DECLINE,
    words.DELTA,
    words.PUBLISHED,
    words.ACQUIRED,
)
"""Words the signals were read from (without taking them): the plan is built on them."""


def _counters_used(plans: list[QueryPlan]) -> set[str]:
    """The counters (``views_count``...) that ``plans`` measure or filter, deltas included."""
    columns = {plan.measure.column for plan in plans}
    columns |= {f.column for plan in plans for f in plan.filters}
    return {column.removeprefix("delta_") for column in columns if column}


def _account(scan: Scan, plans: list[QueryPlan]) -> None:
    """Take the words the plans were built on; raise :class:`Unclear` ("unplaced") when any
    other word is left that is not a function word. A counter the question names but no
    plan uses ("videos with likes" read as all videos) is left, so it is refused."""
    for pattern in _READ_WORDS:
        scan.take(pattern)
    used = _counters_used(plans)
    for match in list(words.COUNTER.finditer(scan.text)):
        if words.counter_of(match) in used:
            scan.blank(*match.span())
    require_all_placed(scan)


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
    except Unclear as unclear:
        return refusal(unclear.reason, language, as_written(text, unclear.words))
    described = [
        plan.model_copy(update={"interpretation": describe(plan, language)}) for plan in plans
    ]
    return described[0] if len(described) == 1 else readings(described, language)
