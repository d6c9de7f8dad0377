"""Per-member sums over a period from a monthly rollup and its daily one (migration 0012).

A period's sum is that of its whole months' monthly rows, and, for a month it covers in part,
either the daily rows of the days it covers, or the monthly row less the daily rows of the
days it does not, whichever reads fewer days. So at most 15 days of daily rows are read at
each end of the period, however long it is, instead of every day of it. Exact, because ingest
adds the same increments to both (each monthly row is the sum of its month's daily rows).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    Subquery,
    Table,
    any_,
    bindparam,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY

from tally.chatstore.read.periods import Period
from tally.chatstore.read.summary import months_of

Days = tuple[date, date]
"""Local days ``first``..``last``, inclusive."""


@dataclass(frozen=True, slots=True)
class MonthlyCover:
    """How a period's sum reads the rollups: the monthly rows of ``months``, plus the daily
    rows of the ``added`` days, less those of the ``taken`` days."""

    months: tuple[date, ...]
    added: tuple[Days, ...]
    taken: tuple[Days, ...]


def _month_end(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def monthly_cover(start: date, end: date) -> MonthlyCover:
    """The cover of local days ``start``..``end`` (inclusive) that reads fewest daily rows."""
    months: list[date] = []
    added: list[Days] = []
    taken: list[Days] = []
    for month in months_of(start, end):
        last = _month_end(month)
        low, high = max(start, month), min(end, last)
        inside = (high - low).days + 1
        if inside == last.day:
            months.append(month)
        elif inside <= last.day - inside:
            added.append((low, high))
        else:
            months.append(month)
            if low > month:
                taken.append((month, low - timedelta(days=1)))
            if high < last:
                taken.append((high + timedelta(days=1), last))
    return MonthlyCover(tuple(months), tuple(added), tuple(taken))


COVER_DAYS = ("months", "added", "taken")
"""The names of :func:`cover_days`' lists (and of the bound parameters :data:`COVERED`)."""
COVERED = {name: bindparam(name, [], type_=ARRAY(Date)) for name in COVER_DAYS}
"""Bound parameters for a statement built once and given each period's days
(:func:`cover_days`) with ``.params``."""


def _days(ranges: Sequence[Days]) -> list[date]:
    return [
        first + timedelta(days=n) for first, last in ranges for n in range((last - first).days + 1)
    ]


def cover_days(period: Period) -> dict[str, list[date]]:
    """:func:`monthly_cover` of ``period`` as lists of dates: ``months`` (first days),
    ``added`` and ``taken`` (every day of those ranges)."""
    cover = monthly_cover(period.start, period.end)
    return {"months": list(cover.months), "added": _days(cover.added), "taken": _days(cover.taken)}


def covered_rows(
    daily: Table,
    monthly: Table,
    columns: Sequence[str],
    keys: Sequence[str],
    days: Mapping[str, ColumnElement[Sequence[date]]],
    **wanted: ColumnElement[int] | int,
) -> Subquery:
    """``(<keys>, <columns>)``: the rows of ``monthly`` (keyed by ``month``) of ``days``'
    ``months``, and of ``daily`` (keyed by ``day``) of its ``added`` days and, negated, of
    its ``taken`` days (:func:`cover_days`): their sums over ``keys`` are the sums over the
    period. Only rows whose columns equal ``wanted`` (``chat_id=…``). Both tables must hold
    the same increments. The statement's shape is the same for every period."""
    parts = [
        select(*(monthly.c[key] for key in keys), *(monthly.c[name] for name in columns))
        .where(*(monthly.c[name] == value for name, value in wanted.items()))
        .where(monthly.c.month == any_(days["months"]))
    ]
    for name, sign in (("added", 1), ("taken", -1)):
        signed = [(daily.c[column] * literal(sign)).label(column) for column in columns]
        parts.append(
            select(*(daily.c[key] for key in keys), *signed)
            .where(*(daily.c[name] == value for name, value in wanted.items()))
            .where(daily.c.day == any_(days[name]))
        )
    return union_all(*parts).subquery("rows")


def period_rows(
    daily: Table,
    monthly: Table,
    period: Period,
    columns: Sequence[str],
    keys: Sequence[str],
    **wanted: ColumnElement[int] | int,
) -> Subquery:
    """:func:`covered_rows` for ``period``."""
    days = {name: literal(value, ARRAY(Date)) for name, value in cover_days(period).items()}
    return covered_rows(daily, monthly, columns, keys, days, **wanted)


def covered_sums(
    daily: Table,
    monthly: Table,
    columns: Sequence[str],
    days: Mapping[str, ColumnElement[Sequence[date]]],
    **wanted: ColumnElement[int] | int,
) -> Subquery:
    """``(user_id, <columns>)``: each member's sums of :func:`covered_rows`."""
    rows = covered_rows(daily, monthly, columns, ("user_id",), days, **wanted)
    return (
        select(rows.c.user_id, *(func.sum(rows.c[name]).label(name) for name in columns))
        .group_by(rows.c.user_id)
        .subquery("sums")
    )


Narrow = Callable[[Table], list[ColumnElement[bool]]]
"""Extra conditions on the rows read of a rollup (given the daily or the monthly table)."""


@dataclass(frozen=True, slots=True)
class CoverShape:
    """What the SQL of a period's sums depends on (:func:`cover_sums`): whether the period
    reads whole months, and how many ranges of days it adds and takes."""

    months: bool
    added: int
    taken: int


def cover_shape(cover: MonthlyCover) -> CoverShape:
    return CoverShape(bool(cover.months), len(cover.added), len(cover.taken))


def cover_values(cover: MonthlyCover) -> dict[str, object]:
    """The values of the bind parameters :func:`cover_sums` names, for ``cover``:
    ``cover_months`` (a list of dates), ``added_<i>_first`` / ``_last`` and ``taken_<i>_first``
    / ``_last`` (dates)."""
    values: dict[str, object] = {"cover_months": list(cover.months)}
    for kind, days in (("added", cover.added), ("taken", cover.taken)):
        for index, (first, last) in enumerate(days):
            values[f"{kind}_{index}_first"] = first
            values[f"{kind}_{index}_last"] = last
    return values


def cover_sums(
    daily: Table,
    monthly: Table,
    chat_id: ColumnElement[Any],
    shape: CoverShape,
    keys: Sequence[str],
    columns: Sequence[str],
    narrow: Narrow | None = None,
) -> Subquery:
    """:func:`period_sums` for any period of ``shape``, its months and days left as bind
    parameters (:func:`cover_values` gives them for a period): a statement built once per
    shape serves every chat and period of that shape."""
    months = bindparam("cover_months", type_=ARRAY(Date))
    ranges = {
        kind: [
            (
                bindparam(f"{kind}_{index}_first", type_=Date),
                bindparam(f"{kind}_{index}_last", type_=Date),
            )
            for index in range(count)
        ]
        for kind, count in (("added", shape.added), ("taken", shape.taken))
    }
    return _sums(
        daily,
        monthly,
        chat_id,
        months if shape.months else None,
        (ranges["added"], ranges["taken"]),
        keys,
        columns,
        narrow,
    )


def period_sums(
    daily: Table,
    monthly: Table,
    chat_id: int,
    period: Period,
    keys: Sequence[str],
    columns: Sequence[str],
    narrow: Narrow | None = None,
) -> Subquery:
    """``(<keys>, <columns>)``: the sums of ``columns`` over ``period`` in chat ``chat_id`` per
    value of ``keys``, from ``monthly`` (keyed ``chat_id, month, <keys>``) and ``daily``
    (keyed ``chat_id, day, <keys>``), which must hold the same increments; only the rows
    ``narrow`` keeps, when given; keys with a row in the period only (their sums may be 0)."""
    cover = monthly_cover(period.start, period.end)
    months = literal(list(cover.months), ARRAY(Date)) if cover.months else None
    return _sums(daily, monthly, chat_id, months, (cover.added, cover.taken), keys, columns, narrow)


def _sums(
    daily: Table,
    monthly: Table,
    chat_id: ColumnElement[Any] | int,
    months: ColumnElement[Any] | None,
    days: tuple[Sequence[tuple[Any, Any]], Sequence[tuple[Any, Any]]],
    keys: Sequence[str],
    columns: Sequence[str],
    narrow: Narrow | None,
) -> Subquery:
    """The sums of :func:`period_sums`: the monthly rows of ``months`` (an array; None: none),
    plus the daily rows of the ranges ``days[0]``, less those of ``days[1]``."""
    parts: list[Select[tuple[object, ...]]] = []
    if months is not None:
        parts.append(
            select(*(monthly.c[name] for name in (*keys, *columns))).where(
                monthly.c.chat_id == chat_id,
                monthly.c.month == any_(months),
                *(narrow(monthly) if narrow else ()),
            )
        )
    for ranges, sign in zip(days, (1, -1), strict=True):
        if ranges:
            signed = [(daily.c[name] * literal(sign)).label(name) for name in columns]
            parts.append(
                select(*(daily.c[name] for name in keys), *signed).where(
                    daily.c.chat_id == chat_id,
                    or_(*(daily.c.day.between(first, last) for first, last in ranges)),
                    *(narrow(daily) if narrow else ()),
                )
            )
    rows = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("rows")
    return (
        select(
            *(rows.c[name] for name in keys),
            *(func.sum(rows.c[name]).label(name) for name in columns),
        )
        .group_by(*(rows.c[name] for name in keys))
        .subquery("sums")
    )


def member_sums(
    daily: Table,
    monthly: Table,
    chat_id: int,
    period: Period,
    columns: Sequence[str],
    user_id: int | None = None,
) -> Subquery:
    """``(user_id, <columns>)``: each member's (only ``user_id``'s, when given) sums of
    ``columns`` over ``period`` in chat ``chat_id``, from ``monthly`` (keyed ``chat_id, month,
    user_id``) and ``daily`` (keyed ``chat_id, day, user_id``), which must hold the same
    increments; members with a row in the period only (their sums may be 0)."""
    mine = {"user_id": user_id} if user_id is not None else {}
    days = {name: literal(value, ARRAY(Date)) for name, value in cover_days(period).items()}
    return covered_sums(daily, monthly, columns, days, chat_id=chat_id, **mine)
