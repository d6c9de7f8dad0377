"""SQL fragments the read statements share: local days, hours and ISO weeks, sums over
``chat_daily``, and lists of rows as arrays in one row."""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    Integer,
    ScalarSelect,
    Subquery,
    cast,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.elements import KeyedColumnElement

from tally.chatstore.tables import CHAT_DAILY, Row


def week_of(day: ColumnElement[date]) -> ColumnElement[date]:
    """The Monday of ``day``'s ISO week, in SQL (``day - (isodow - 1)``)."""
    isodow = cast(func.extract("isodow", day), Integer)
    return day - (isodow - 1)


def local_day(moment: KeyedColumnElement[datetime], tz: str) -> ColumnElement[date]:
    """The local calendar day of a ``timestamptz`` column in zone ``tz``."""
    return cast(func.timezone(tz, moment), Date)


def local_hour(moment: KeyedColumnElement[datetime], tz: str) -> ColumnElement[datetime]:
    """The instant the local hour (in zone ``tz``) of a ``timestamptz`` column began:
    ``moment`` less the minutes and seconds past the local hour, so the two 02:00 hours of a
    night the clocks go back stay apart, and zones offset by 30 or 45 minutes are exact."""
    local = func.timezone(tz, moment, type_=DateTime())
    return moment - (local - func.date_trunc("hour", local, type_=DateTime()))


def daily_sum(column: str, chat_id: int, start: date, end: date) -> ScalarSelect[int]:
    """``chat_daily.<column>`` summed over local days ``start``..``end`` (0 when none)."""
    daily = CHAT_DAILY.c
    return (
        select(func.coalesce(func.sum(daily[column]), 0))
        .where(daily.chat_id == chat_id, daily.day.between(start, end))
        .scalar_subquery()
    )


def listed(rows: Subquery, prefix: str, order: Sequence[ColumnElement[Any]]) -> Subquery:
    """One row: each column of ``rows`` as an array, ``<prefix><column>``, in ``order``: a
    list of rows as columns of a one-row statement, so that a report's lists come back in
    one round trip (read them with :func:`unlisted`)."""
    return select(
        *(func.array_agg(aggregate_order_by(c, *order)).label(f"{prefix}{c.name}") for c in rows.c)
    ).subquery(f"{prefix}lists")


def unlisted(row: Row, prefix: str, names: Sequence[str]) -> list[Row]:
    """The rows of :func:`listed`'s arrays ``<prefix><name>`` in ``row``, keyed by name (none
    when its arrays are NULL: no rows)."""
    columns = [row[f"{prefix}{name}"] or [] for name in names]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
