"""Measure rules on PostgreSQL: a :class:`MeasureSource` read at an instant, and a rule's
backtest over the last days.

Both run the SQL of the executor's compiler (:func:`compile_plan`, which adds the chat
scope), so a backtest measures exactly what the live rule will. A window is half-open,
``[at - window_s, at)``, in UTC.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncEngine

from tally.alerts.domain.rules import Condition, MeasureSource, Rule
from tally.alerts.domain.watch import plural_ru
from tally.contracts.events import Language
from tally.semantic.compiler import CompiledQuery, compile_plan
from tally.semantic.plan import QueryPlan
from tally.semantic.results import as_number, single_number

MAX_WINDOWS: Final = 50_000
"""Most windows one backtest evaluates (a minute's step over a month is 43,200)."""
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_PROBE: Final = (datetime(1, 1, 1, 0, 0, 1, tzinfo=UTC), datetime(1, 1, 1, 0, 0, 2, tzinfo=UTC))
"""A time range no real window has: its bounds are found among the compiled query's values."""


def _windowed(plan: QueryPlan, start: datetime, end: datetime) -> QueryPlan:
    """``plan`` over ``[start, end)`` on its own time column (UTC)."""
    if plan.time_range is None:
        raise ValueError("a measure plan needs a time range (its time column)")
    time_range = plan.time_range.model_copy(update={"start": start, "end": end, "timezone": "UTC"})
    return plan.model_copy(update={"time_range": time_range})


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("instants must be aware datetimes (UTC)")
    return moment.astimezone(UTC)


def _ratio(value: float | None, base: float | None) -> float | None:
    """``value / base``; None when either is None or the base is 0."""
    if value is None or base is None or base == 0:
        return None
    return value / base


async def _value(source: MeasureSource, end: datetime, engine: AsyncEngine) -> float | None:
    window = timedelta(seconds=source.window_s)
    query = compile_plan(_windowed(source.plan, end - window, end), source.chat_id)
    async with engine.connect() as connection:
        result = await connection.exec_driver_sql(query.sql, query.args)
        value = single_number([tuple(row) for row in result.all()])
    return None if value is None else float(value)


async def read_measure(source: MeasureSource, at: datetime, *, engine: AsyncEngine) -> float | None:
    """The source's sample at ``at`` (aware): the measure over ``[at - window_s, at)``, or
    for ``ratio_to_offset`` its ratio to the same measure over the window ``offset_s``
    earlier (None when that is 0). None also when the measure itself is (an average, minimum
    or maximum of no rows). One query, two for a ratio.

    Raises ValueError for a naive ``at``, a plan without a time range, or a chat-scoped plan
    without ``chat_id``; SQLAlchemy's errors when the database fails.
    """
    at = _aware(at)
    value = await _value(source, at, engine)
    if source.compare == "value":
        return value
    base = await _value(source, at - timedelta(seconds=_offset_s(source)), engine)
    return _ratio(value, base)


def _offset_s(source: MeasureSource) -> float:
    if source.offset_s is None:
        raise ValueError("a ratio_to_offset source needs offset_s")
    return source.offset_s


def _placeholder(query: CompiledQuery, value: datetime) -> int:
    """The number ``n`` of the one ``$n`` bound to ``value``."""
    positions = [index for index, arg in enumerate(query.args) if arg == value]
    if len(positions) != 1:
        raise ValueError("the compiled measure does not bind its time range once")
    number = positions[0] + 1
    if len(re.findall(rf"\${number}(?!\d)", query.sql)) != 1:
        raise ValueError(f"the compiled measure does not use ${number} once")
    return number


def series_query(source: MeasureSource) -> CompiledQuery:
    """One query for the measure over many windows: ``(window_end, value)`` rows.

    The measure's own SQL (from :func:`compile_plan`) becomes a ``LATERAL`` subquery run for
    each window end of an array; the placeholders of its range ``[start, end)`` become
    ``window_end - $s`` and ``window_end``, with ``$s`` bound to the window (an interval)
    and ``$e`` to the array of window ends (``timestamptz[]``). Bind those two with
    :func:`series_args`.
    """
    probe = compile_plan(_windowed(source.plan, *_PROBE), source.chat_id)
    start, end = _placeholder(probe, _PROBE[0]), _placeholder(probe, _PROBE[1])
    measure = re.sub(rf"\${start}(?!\d)", f"(windows.window_end - ${start}::interval)", probe.sql)
    measure = re.sub(rf"\${end}(?!\d)", "windows.window_end", measure)
    sql = (
        f"SELECT windows.window_end, measure.value FROM unnest(${end}::timestamptz[])"
        f" AS windows(window_end) CROSS JOIN LATERAL ({measure}) AS measure"
        " ORDER BY windows.window_end"
    )
    return CompiledQuery(sql=sql, args=probe.args, params=probe.params)


def series_args(query: CompiledQuery, window_s: float, ends: Sequence[datetime]) -> tuple[Any, ...]:
    """The arguments of :func:`series_query`'s SQL: the window and the window ends bound in
    place of the probe range."""
    return tuple(
        timedelta(seconds=window_s) if arg == _PROBE[0] else list(ends) if arg == _PROBE[1] else arg
        for arg in query.args
    )


async def read_series(
    source: MeasureSource, ends: Iterable[datetime], *, engine: AsyncEngine
) -> dict[datetime, float | None]:
    """The measure (not the ratio) over ``[end - window_s, end)`` for every end, in one
    query: each window's value keyed by its end (UTC)."""
    instants = sorted({_aware(end) for end in ends})
    query = series_query(source)
    async with engine.connect() as connection:
        result = await connection.exec_driver_sql(
            query.sql, series_args(query, source.window_s, instants)
        )
        rows: list[tuple[Any, ...]] = [tuple(row) for row in result.all()]
    return {_aware(row[0]): _float(row[1]) for row in rows}


def _float(value: object) -> float | None:
    number = as_number(value)
    return None if number is None else float(number)


def window_ends(now: datetime, days: float, step_s: float) -> list[datetime]:
    """The ends of the windows a backtest evaluates: every multiple of ``step_s`` since
    1970-01-01 UTC in ``(now - days, now]`` (whole hours for an hourly step), in order.

    Raises ValueError for ``days`` or ``step_s`` not above 0, or more than
    :data:`MAX_WINDOWS` ends.
    """
    if days <= 0 or step_s <= 0:
        raise ValueError("days and step_s must be above 0")
    step = timedelta(seconds=step_s)
    last = _EPOCH + step * ((_aware(now) - _EPOCH) // step)
    count = int(timedelta(days=days) / step)
    if count > MAX_WINDOWS:
        raise ValueError(f"{count} windows: a backtest evaluates at most {MAX_WINDOWS}")
    return [last - step * index for index in reversed(range(count))]


_COMPARE: Final = {
    ">": float.__gt__,
    ">=": float.__ge__,
    "<": float.__lt__,
    "<=": float.__le__,
}


def _holds(condition: Condition, value: float | None) -> bool:
    return value is not None and _COMPARE[condition.op](float(value), condition.threshold)


def fire_times(rule: Rule, samples: Sequence[tuple[datetime, float | None]]) -> list[datetime]:
    """When ``rule`` would have started firing, evaluated at each ``(time, sample)`` in time
    order (Prometheus' semantics): the condition must hold at every evaluation for ``for_s``
    (pending until then), and once firing the alert stays so until the condition has been
    false for ``keep_firing_for_s``. A None sample does not meet the condition. The state
    before the first sample is taken as inactive.
    """
    fires: list[datetime] = []
    since: datetime | None = None
    last_true: datetime | None = None
    firing = False
    for at, value in samples:
        if _holds(rule.condition, value):
            since, last_true = since or at, at
            if not firing and (at - since).total_seconds() >= rule.for_s:
                firing = True
                fires.append(at)
        elif not (firing and last_true and _kept(rule, at - last_true)):
            since, firing = None, False
    return fires


def _kept(rule: Rule, cleared_for: timedelta) -> bool:
    return cleared_for.total_seconds() < rule.keep_firing_for_s


@dataclass(frozen=True, slots=True)
class Backtest:
    """What a rule would have done over the last ``days``: ``fires`` (times it would have
    started firing), the first and last of those instants (UTC), the highest sample, and how
    many windows were evaluated."""

    days: float
    windows: int
    fires: int
    first_fire: datetime | None
    last_fire: datetime | None
    max_value: float | None

    def describe(self, language: Language) -> str:
        """ "This would have fired 3 times in the last 30 days (last: 2026-11-02 14:00 UTC)."
        or its Russian equivalent."""
        days = int(self.days) if self.days == int(self.days) else self.days
        last = self.last_fire.strftime("%Y-%m-%d %H:%M UTC") if self.last_fire else ""
        if language == "en":
            period = f"the last {days} day" if days == 1 else f"the last {days} days"
            if self.fires == 0:
                return f"This would not have fired in {period}."
            times = "once" if self.fires == 1 else f"{self.fires} times"
            return f"This would have fired {times} in {period} (last: {last})."
        day_word = plural_ru(int(days), "день", "дня", "дней") if days == int(days) else "дня"
        period = f"За {'последний' if days == 1 else 'последние'} {days} {day_word}"
        if self.fires == 0:
            return f"{period} это правило не сработало бы ни разу."
        times = plural_ru(self.fires, "раз", "раза", "раз")
        return f"{period} это правило сработало бы {self.fires} {times} (последний раз: {last})."


def _samples(
    source: MeasureSource, ends: Sequence[datetime], values: dict[datetime, float | None]
) -> list[tuple[datetime, float | None]]:
    if source.compare == "value":
        return [(end, values.get(end)) for end in ends]
    offset = timedelta(seconds=_offset_s(source))
    return [(end, _ratio(values.get(end), values.get(end - offset))) for end in ends]


async def backtest(
    rule: Rule,
    *,
    engine: AsyncEngine,
    now: datetime,
    days: float = 30,
    step_s: float | None = None,
) -> Backtest:
    """How often ``rule`` (a measure rule) would have fired over the last ``days`` before
    ``now``, evaluated at the :func:`window_ends` stepped every ``step_s`` seconds (default:
    the rule's window), as :func:`fire_times` counts it (honouring ``for_s`` and
    ``keep_firing_for_s``).

    Cost: one query, whatever the number of windows (no round trip per window). PostgreSQL
    runs the measure's SQL once per window end (``days * 86400 / step_s`` of them: 720 for
    hourly windows over 30 days; for ``ratio_to_offset`` also each end ``offset_s``
    earlier, up to twice as many), each a range scan on the plan's (indexed) time column: it
    reads about ``rows in the period * window_s / step_s`` rows. Measured: 30 days of hourly
    windows over a chat with 350,000 messages in the period (450 an hour) take about 0.35 s
    on the development machine's PostgreSQL 15, a ratio to last week about the same.

    Raises TypeError for a rule over a metric, ValueError as :func:`window_ends` and
    :func:`read_measure` do.
    """
    source = rule.source
    if not isinstance(source, MeasureSource):
        raise TypeError("only a rule over a measure can be backtested")
    ends = window_ends(now, days, step_s or source.window_s)
    queried = set(ends)
    if source.compare == "ratio_to_offset":
        queried |= {end - timedelta(seconds=_offset_s(source)) for end in ends}
    samples = _samples(source, ends, await read_series(source, queried, engine=engine))
    fires = fire_times(rule, samples)
    values = [value for _, value in samples if value is not None]
    return Backtest(
        days=days,
        windows=len(ends),
        fires=len(fires),
        first_fire=fires[0] if fires else None,
        last_fire=fires[-1] if fires else None,
        max_value=max(values, default=None),
    )
