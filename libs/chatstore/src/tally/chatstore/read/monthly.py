"""Sums over a period (per member, pair of members, delay bucket ...) from a monthly rollup
and its daily one (migration 0012).

A period's sum is that of its whole months' monthly rows, and, for a month it covers in part,
either the daily rows of the days it covers, or the monthly row less the daily rows of the
days it does not, whichever reads fewer days. So at most 15 days of daily rows are read at
each end of the period, however long it is, instead of every day of it. Exact, because ingest
adds the same increments to both (each monthly row is the sum of its month's daily rows).

The period's months and days are three date arrays (:func:`cover_days`) compared with
``= ANY``, so one statement, built once with them as bound parameters (:data:`COVERED`),
serves every period.
"""

from collections.abc import Mapping, Sequence
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
    select,
    tuple_,
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
(:func:`cover_days`) with ``.params`` or the values it runs with: one statement serves
every chat and period."""


def _days(ranges: Sequence[Days]) -> list[date]:
    return [
        first + timedelta(days=n) for first, last in ranges for n in range((last - first).days + 1)
    ]


def cover_days(period: Period) -> dict[str, list[date]]:
    """:func:`monthly_cover` of ``period`` as lists of dates: ``months`` (first days),
    ``added`` and ``taken`` (every day of those ranges; at most 15 at each end)."""
    cover = monthly_cover(period.start, period.end)
    return {"months": list(cover.months), "added": _days(cover.added), "taken": _days(cover.taken)}


def covered_rows(
    daily: Table,
    monthly: Table,
    columns: Sequence[str],
    keys: Sequence[str],
    days: Mapping[str, ColumnElement[Sequence[date]]],
    *,
    among: Select[Any] | None = None,
    **wanted: ColumnElement[int] | int,
) -> Subquery:
    """``(<keys>, <columns>)``: the rows of ``monthly`` (keyed by ``month``) of ``days``'
    ``months``, and of ``daily`` (keyed by ``day``) of its ``added`` days and, negated, of
    its ``taken`` days (:func:`cover_days`, each an array compared with ``= ANY``): their
    sums over ``keys`` are the sums over the period. Only rows whose columns equal ``wanted``
    (``chat_id=…``) and, when ``among`` is given, whose ``keys`` are among its rows (a
    semi-join). Both tables must hold the same increments. The statement's shape is the same
    for every period; an empty array reads no row."""
    parts = []
    for table, day, name, sign in (
        (monthly, monthly.c.month, "months", 1),
        (daily, daily.c.day, "added", 1),
        (daily, daily.c.day, "taken", -1),
    ):
        signed = [
            table.c[column] if sign == 1 else (table.c[column] * literal(sign)).label(column)
            for column in columns
        ]
        part = (
            select(*(table.c[key] for key in keys), *signed)
            .where(*(table.c[column] == value for column, value in wanted.items()))
            .where(day == any_(days[name]))
        )
        if among is not None:
            part = part.where(tuple_(*(table.c[key] for key in keys)).in_(among))
        parts.append(part)
    return union_all(*parts).subquery("rows")


def covered_sums(
    daily: Table,
    monthly: Table,
    columns: Sequence[str],
    days: Mapping[str, ColumnElement[Sequence[date]]],
    *,
    keys: Sequence[str] = ("user_id",),
    among: Select[Any] | None = None,
    **wanted: ColumnElement[int] | int,
) -> Subquery:
    """``(<keys>, <columns>)``: the sums of :func:`covered_rows` per value of ``keys`` (by
    default each member's); keys with a row in the period only (their sums may be 0)."""
    rows = covered_rows(daily, monthly, columns, keys, days, among=among, **wanted)
    return (
        select(
            *(rows.c[key] for key in keys),
            *(func.sum(rows.c[name]).label(name) for name in columns),
        )
        .group_by(*(rows.c[key] for key in keys))
        .subquery("sums")
    )


def member_sums(
    daily: Table, monthly: Table, chat_id: int, period: Period, columns: Sequence[str]
) -> Subquery:
    """``(user_id, <columns>)``: each member's sums of ``columns`` over ``period`` in chat
    ``chat_id``, from ``monthly`` (keyed ``chat_id, month, user_id``) and ``daily`` (keyed
    ``chat_id, day, user_id``), which must hold the same increments; members with a row in
    the period only (their sums may be 0). The period's days are literals: for statements
    built per call."""
    days = {name: literal(value, ARRAY(Date)) for name, value in cover_days(period).items()}
    return covered_sums(daily, monthly, columns, days, chat_id=chat_id)
