"""The chat tables as SQLAlchemy Core tables, and fragments the statements share."""

from datetime import date, datetime

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    Integer,
    ScalarSelect,
    Table,
    cast,
    distinct,
    func,
    select,
)
from sqlalchemy.sql.elements import KeyedColumnElement

from tally.infra.db.models import (
    Chat,
    ChatDaily,
    ChatHourly,
    MemberEvent,
    Message,
    Reaction,
    User,
    UserChatDaily,
    UserChatMonthly,
)


def _table(model: type) -> Table:
    table = model.__table__  # type: ignore[attr-defined]  # declarative models have one
    assert isinstance(table, Table)
    return table


CHATS = _table(Chat)
USERS = _table(User)
MESSAGES = _table(Message)
MEMBER_EVENTS = _table(MemberEvent)
REACTIONS = _table(Reaction)
CHAT_DAILY = _table(ChatDaily)
USER_CHAT_DAILY = _table(UserChatDaily)
USER_CHAT_MONTHLY = _table(UserChatMonthly)
CHAT_HOURLY = _table(ChatHourly)


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


def active_users(chat_id: int, start: date, end: date) -> ScalarSelect[int]:
    """Distinct users who posted on local days ``start``..``end``."""
    daily = USER_CHAT_DAILY.c
    return (
        select(func.count(distinct(daily.user_id)))
        .where(daily.chat_id == chat_id, daily.day.between(start, end), daily.messages > 0)
        .scalar_subquery()
    )


def user_days(chat_id: int, start: date, end: date) -> ScalarSelect[int]:
    """(user, day) pairs with a message on local days ``start``..``end``: the sum of DAU."""
    daily = USER_CHAT_DAILY.c
    return (
        select(func.count())
        .where(daily.chat_id == chat_id, daily.day.between(start, end), daily.messages > 0)
        .scalar_subquery()
    )
