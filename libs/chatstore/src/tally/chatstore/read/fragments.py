"""SQL fragments the read statements share: local days, hours and ISO weeks, and sums over
``chat_daily``."""

from datetime import date, datetime

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    Integer,
    ScalarSelect,
    cast,
    func,
    select,
)
from sqlalchemy.sql.elements import KeyedColumnElement

from tally.chatstore.tables import CHAT_DAILY


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
