"""The users who posted in a period: messages, active days, last active day; one page at a time.

From ``user_chat_monthly`` (active days and the last one from its day masks; messages from
whole months, with ``user_chat_daily`` for the months the period covers in part) joined to
``users`` for names. Search matches the username (a
leading ``@`` is ignored), first name, last name or "first last", case-insensitively, as a
substring (``%`` and ``_`` match themselves). Sorting is by one of :data:`SORT_KEYS`, then by
user id ascending, so pages never overlap.
"""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Subquery, Text, cast, func, or_, select
from sqlalchemy.dialects.postgresql import BIT

from tally.chatstore.read.connection import Database, Statement, fetch_all, fetch_one
from tally.chatstore.read.errors import StatsRequestError
from tally.chatstore.read.models import SortOrder, UserSort, UsersPage, UserStats
from tally.chatstore.read.monthly import member_sums
from tally.chatstore.read.periods import Period
from tally.chatstore.read.summary import masked_days, months_of
from tally.chatstore.tables import USER_CHAT_DAILY, USER_CHAT_MONTHLY, USERS

SORT_KEYS: tuple[UserSort, ...] = ("messages", "active_days", "last_seen")
MAX_PAGE_SIZE = 200


@dataclass(frozen=True, slots=True)
class UsersQuery:
    """Which page (from 1) of how many rows (1..MAX_PAGE_SIZE), the search text and order."""

    page: int = 1
    size: int = 50
    search: str | None = None
    sort: UserSort = "messages"
    order: SortOrder = "desc"

    def __post_init__(self) -> None:
        if not 1 <= self.size <= MAX_PAGE_SIZE or self.page < 1 or self.sort not in SORT_KEYS:
            raise StatsRequestError(
                f"pages start at 1 and hold 1 to {MAX_PAGE_SIZE} users, sorted by one of "
                f"{', '.join(SORT_KEYS)}."
            )


def _active_days(chat_id: int, period: Period) -> Subquery:
    """``(user_id, active_days, last_seen)`` of each member who posted in the period, from
    the day masks of ``user_chat_monthly``: the set bits of the period's days, and the day of
    the highest (``month`` plus the bit's index; bit ``d - 1`` is day ``d``)."""
    monthly = USER_CHAT_MONTHLY.c
    months = months_of(period.start, period.end)
    bits = cast(masked_days(period, months), BIT(32))
    highest = 32 - func.strpos(cast(bits, Text), "1")  # bit(32) reads from bit 31 down
    return (
        select(
            monthly.user_id,
            func.sum(func.bit_count(bits)).label("active_days"),
            func.max(monthly.month + highest).label("last_seen"),
        )
        .where(monthly.chat_id == chat_id, monthly.month.between(months[0], months[-1]))
        .where(masked_days(period, months) != 0)
        .group_by(monthly.user_id)
        .subquery("active")
    )


def _activity(chat_id: int, period: Period) -> Subquery:
    """``(user_id, messages, active_days, last_seen)`` of each member who posted in the
    period: messages from whole months of ``user_chat_monthly`` and the days of the months
    the period covers in part from ``user_chat_daily`` (:func:`member_sums`)."""
    active = _active_days(chat_id, period)
    sums = member_sums(USER_CHAT_DAILY, USER_CHAT_MONTHLY, chat_id, period, ("messages",))
    return (
        select(active.c.user_id, sums.c.messages, active.c.active_days, active.c.last_seen)
        .select_from(active.join(sums, sums.c.user_id == active.c.user_id))
        .subquery("activity")
    )


def _matches(search: str) -> ColumnElement[bool]:
    escaped = search.removeprefix("@").replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_")
    pattern = f"%{escaped}%"
    full_name = func.concat_ws(" ", USERS.c.first_name, USERS.c.last_name)
    return or_(
        *(
            column.ilike(pattern, escape="\\")
            for column in (USERS.c.username, USERS.c.first_name, USERS.c.last_name, full_name)
        )
    )


def _matching(chat_id: int, period: Period, search: str | None) -> Statement:
    activity = _activity(chat_id, period)
    names = USERS.c
    statement = select(activity, names.username, names.first_name, names.last_name).select_from(
        activity.outerjoin(USERS, names.user_id == activity.c.user_id)
    )
    return statement.where(_matches(search)) if search else statement


def users_statement(chat_id: int, period: Period, query: UsersQuery) -> Statement:
    """One page of ``(user_id, messages, active_days, last_seen, username, first_name,
    last_name, total)`` rows of the users who posted in ``period``; ``total`` is how many
    match in all (a window count, so one pass serves the page and the count)."""
    matching = _matching(chat_id, period, query.search).subquery("matching")
    key = matching.c[query.sort]
    return (
        select(matching, func.count().over().label("total"))
        .order_by(key.desc() if query.order == "desc" else key.asc(), matching.c.user_id)
        .limit(query.size)
        .offset((query.page - 1) * query.size)
    )


def users_count_statement(chat_id: int, period: Period, search: str | None) -> Statement:
    """How many users posted in ``period`` (and match ``search``)."""
    return select(func.count()).select_from(_matching(chat_id, period, search).subquery())


async def users(db: Database, *, chat_id: int, period: Period, query: UsersQuery) -> UsersPage:
    """The ``query.page``-th page of users who posted in ``period`` in chat ``chat_id``."""
    rows = await fetch_all(db, users_statement(chat_id, period, query))
    if rows:
        total = int(rows[0]["total"])
    else:  # a page past the end: no row carries the total
        counted = await fetch_one(db, users_count_statement(chat_id, period, query.search))
        assert counted is not None  # an aggregate-only SELECT has exactly one row
        total = int(next(iter(counted.values())))
    return UsersPage(
        chat_id=chat_id,
        start=period.start,
        end=period.end,
        page=query.page,
        size=query.size,
        total=total,
        sort=query.sort,
        order=query.order,
        search=query.search,
        items=[UserStats.model_validate(row) for row in rows],
    )
