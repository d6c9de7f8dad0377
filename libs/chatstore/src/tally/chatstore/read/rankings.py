"""The members with the most messages, words, reactions received or replies received.

Messages and words come from ``user_chat_monthly`` and ``user_chat_daily``, reactions from
``user_reactions_monthly`` and ``user_reactions_daily`` (whole months from the monthly rows,
see :mod:`tally.chatstore.read.monthly`), replies from ``user_replies_monthly`` and
``user_replies_daily``.
"""

from sqlalchemy import ColumnElement, Subquery, select

from tally.chatstore.read.connection import Database, Statement, fetch_all
from tally.chatstore.read.conversation import member, with_names
from tally.chatstore.read.errors import StatsRequestError
from tally.chatstore.read.monthly import member_sums
from tally.chatstore.read.periods import Period
from tally.chatstore.tables import (
    USER_CHAT_DAILY,
    USER_CHAT_MONTHLY,
    USER_REACTIONS_DAILY,
    USER_REACTIONS_MONTHLY,
    USER_REPLIES_DAILY,
    USER_REPLIES_MONTHLY,
    Row,
)
from tally.contracts.group_reports import MemberCount, MemberMeasure, TopMembers

MEASURES: tuple[MemberMeasure, ...] = ("messages", "words", "reactions", "replies")
MAX_TOP = 100
USER_COUNTS = ("messages", "words")


def posted(chat_id: int, period: Period, column: str) -> Subquery:
    """``(user_id, value)``: each member's ``messages`` or ``words`` (``column``) in the
    period, members who posted only (``user_chat_monthly`` and ``user_chat_daily``)."""
    sums = member_sums(USER_CHAT_DAILY, USER_CHAT_MONTHLY, chat_id, period, USER_COUNTS)
    return (
        select(sums.c.user_id, sums.c[column].label("value"))
        .where(sums.c.messages > 0)
        .subquery("posted")
    )


def user_reactions(chat_id: int, period: Period, column: str) -> Subquery:
    """``(user_id, value)``: reactions standing on each member's messages of the period
    (``column`` ``received``) or named reactions each put on them (``given``), from
    ``user_reactions_monthly`` and ``user_reactions_daily``."""
    sums = member_sums(USER_REACTIONS_DAILY, USER_REACTIONS_MONTHLY, chat_id, period, (column,))
    return select(sums.c.user_id, sums.c[column].label("value")).subquery(column)


def replies_received(chat_id: int, period: Period) -> Subquery:
    """``(user_id, value)``: replies sent in the period to each member's messages, by others
    (``user_replies_monthly`` and ``user_replies_daily``)."""
    sums = member_sums(USER_REPLIES_DAILY, USER_REPLIES_MONTHLY, chat_id, period, ("received",))
    return select(sums.c.user_id, sums.c.received.label("value")).subquery("replied")


def top_statement(values: Subquery, limit: int | ColumnElement[int]) -> Statement:
    """The ``limit`` rows of ``values`` (``user_id, value``) with the highest value (> 0),
    ties by user id, with the members' name columns (the top is taken before the names are
    joined)."""
    top = (
        select(values)
        .where(values.c.value > 0)
        .order_by(values.c.value.desc(), values.c.user_id)
        .limit(limit)
        .subquery("top")
    )
    joined, names = with_names(top, top.c.user_id, "user_id")
    return (
        select(top.c.user_id, top.c.value, *names)
        .select_from(joined)
        .order_by(top.c.value.desc(), top.c.user_id)
    )


def counts(rows: list[Row]) -> list[MemberCount]:
    """The rows of a :func:`top_statement` as named members and their values."""
    return [MemberCount(member=member(row, "user_id"), count=int(row["value"])) for row in rows]


async def ranked(db: Database, values: Subquery, limit: int) -> list[MemberCount]:
    """The ``limit`` rows of ``values`` (``user_id, value``) with the highest value (> 0),
    ties by user id, as named members (:func:`top_statement`)."""
    return counts(await fetch_all(db, top_statement(values, limit)))


def check_limit(limit: int) -> None:
    """Raises StatsRequestError unless 1 <= ``limit`` <= MAX_TOP."""
    if not 1 <= limit <= MAX_TOP:
        raise StatsRequestError(f"a top lists 1 to {MAX_TOP} members.")


async def top_members(
    db: Database, chat_id: int, period: Period, by: MemberMeasure, limit: int = 10
) -> TopMembers:
    """The ``limit`` members of chat ``chat_id`` with the most ``by`` in ``period``:
    messages or words posted, reactions received (standing on their messages of the period),
    replies received (replies sent in the period to their messages, by others).

    Raises StatsRequestError for an unknown measure or a limit outside 1..MAX_TOP."""
    check_limit(limit)
    if by not in MEASURES:
        raise StatsRequestError(f"members are ranked by one of {', '.join(MEASURES)}.")
    if by == "reactions":
        values = user_reactions(chat_id, period, "received")
    elif by == "replies":
        values = replies_received(chat_id, period)
    else:
        values = posted(chat_id, period, by)
    items = await ranked(db, values, limit)
    return TopMembers(chat_id=chat_id, start=period.start, end=period.end, by=by, items=items)
