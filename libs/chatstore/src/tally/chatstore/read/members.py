"""One member's report (``/user``): figures against the previous period, favourite hours,
reply partners; and finding a member of a chat by username.

Each figure reads whole months and at most 15 days at each end of the period
(:mod:`tally.chatstore.read.monthly`): messages, words and the rank from
``user_chat_monthly`` and ``user_chat_daily``, active days from ``user_chat_monthly``'s day
masks, reactions from ``user_reactions_monthly`` and ``user_reactions_daily``, favourite
hours from ``user_hours_monthly`` and ``user_hours_daily`` (migration 0013); reply partners
come from ``reply_pairs_daily`` (``ix_reply_pairs_daily_replier`` and ``_replied``).
"""

from datetime import date, timedelta
from functools import partial

from sqlalchemy import Date, Label, any_, case, exists, func, literal, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by

from tally.chatstore.read.connection import Database, Statement, fetch_all, fetch_one, together
from tally.chatstore.read.conversation import (
    member,
    reply_pairs,
    with_names,
)
from tally.chatstore.read.monthly import member_sums, period_rows
from tally.chatstore.read.periods import Period
from tally.chatstore.read.rankings import USER_COUNTS
from tally.chatstore.read.summary import day_mask, months_of
from tally.chatstore.tables import (
    MEMBER_EVENTS,
    USER_CHAT_DAILY,
    USER_CHAT_MONTHLY,
    USER_HOURS_DAILY,
    USER_HOURS_MONTHLY,
    USER_REACTIONS_DAILY,
    USER_REACTIONS_MONTHLY,
    USERS,
    Row,
)
from tally.contracts.group_reports import HourCount, Member, MemberCount, MemberFigures, MemberStats

TOP_HOURS = 3
TOP_PARTNERS = 3
REACTIONS = ("received", "given")


async def find_member(db: Database, chat_id: int, username: str) -> Member | None:
    """The member of chat ``chat_id`` whose username is ``username`` (a leading ``@`` is
    ignored; case-insensitive), or None. A member is a user who posted in the chat or joined
    or left it; when several users held the name, the one seen last wins."""
    name = username.removeprefix("@").lower()
    daily, events = USER_CHAT_DAILY.c, MEMBER_EVENTS.c
    posted_here = exists().where(daily.chat_id == chat_id, daily.user_id == USERS.c.user_id)
    came_here = exists().where(events.chat_id == chat_id, events.user_id == USERS.c.user_id)
    statement = (
        select(
            USERS.c.user_id,
            USERS.c.username.label("user_id_username"),
            USERS.c.first_name.label("user_id_first_name"),
            USERS.c.last_name.label("user_id_last_name"),
        )
        .where(func.lower(USERS.c.username) == name, posted_here | came_here)
        .order_by(USERS.c.last_seen_at.desc(), USERS.c.user_id)
        .limit(1)
    )
    row = await fetch_one(db, statement)
    return member(row, "user_id") if row else None


def longest_streak(days: list[date]) -> int:
    """The longest run of consecutive calendar days in ``days`` (sorted, distinct)."""
    best = run = 0
    for index, day in enumerate(days):
        run = run + 1 if index and day - days[index - 1] == timedelta(days=1) else 1
        best = max(best, run)
    return best


def _names(user_id: int) -> list[Label[object]]:
    """The member's name columns (``user_id_username`` ...), as scalar subqueries."""
    return [
        select(USERS.c[part])
        .where(USERS.c.user_id == user_id)
        .scalar_subquery()
        .label(f"user_id_{part}")
        for part in ("username", "first_name", "last_name")
    ]


def _figures_statement(
    chat_id: int, user_id: int, period: Period, *, named: bool = False
) -> Statement:
    """One row: the member's ``messages``, ``words``, ``rank`` (0: posted nothing), the day
    masks of the months the period meets (``months``, ``masks``), ``received`` and ``given``
    reactions; with ``named``, the member's name columns too. Sums read whole months and at
    most 15 days at each end (:func:`member_sums`); the rank counts the members with more
    messages, from the same sums of every member."""
    everyone = member_sums(USER_CHAT_DAILY, USER_CHAT_MONTHLY, chat_id, period, USER_COUNTS)
    sums = select(everyone).cte("everyone")
    mine = select(sums).where(sums.c.user_id == user_id).cte("mine")
    messages = func.coalesce(select(mine.c.messages).scalar_subquery(), 0)
    ahead = select(func.count()).where(sums.c.messages > messages).scalar_subquery()
    monthly = USER_CHAT_MONTHLY.c
    months = months_of(period.start, period.end)
    masks = (
        select(
            func.array_agg(aggregate_order_by(monthly.month, monthly.month)).label("months"),
            func.array_agg(aggregate_order_by(monthly.days, monthly.month)).label("masks"),
        )
        .where(monthly.chat_id == chat_id, monthly.user_id == user_id)
        .where(monthly.month == any_(literal(months, ARRAY(Date))))
        .subquery("masks")
    )
    reactions = member_sums(
        USER_REACTIONS_DAILY, USER_REACTIONS_MONTHLY, chat_id, period, REACTIONS, user_id
    )
    given = [
        func.coalesce(select(reactions.c[name]).scalar_subquery(), 0).label(name)
        for name in REACTIONS
    ]
    return select(
        messages.label("messages"),
        func.coalesce(select(mine.c.words).scalar_subquery(), 0).label("words"),
        case((messages > 0, ahead + 1), else_=0).label("rank"),
        masks.c.months,
        masks.c.masks,
        *given,
        *(_names(user_id) if named else ()),
    ).select_from(masks)


def _active_days(months: list[date] | None, masks: list[int] | None, period: Period) -> list[date]:
    """The days of ``period`` whose bit is set in the day mask of their month (sorted)."""
    days: list[date] = []
    for month, mask in zip(months or [], masks or [], strict=True):
        within = mask & day_mask(month, period.start, period.end)
        days += [month.replace(day=bit + 1) for bit in range(31) if within >> bit & 1]
    return days


def _figures(row: Row, period: Period) -> MemberFigures:
    days = _active_days(row["months"], row["masks"], period)
    return MemberFigures(
        start=period.start,
        end=period.end,
        messages=int(row["messages"]),
        words=int(row["words"]),
        active_days=len(days),
        rank=int(row["rank"]) or None,
        longest_streak=longest_streak(days),
        reactions_received=int(row["received"]),
        reactions_given=int(row["given"]),
    )


async def member_figures(db: Database, chat_id: int, user_id: int, period: Period) -> MemberFigures:
    """The member's figures over ``period`` (see :class:`MemberFigures`), in one statement:
    messages, words and the rank from ``user_chat_monthly`` and ``user_chat_daily``, active
    days from ``user_chat_monthly``'s day masks, reactions from ``user_reactions_monthly``
    and ``user_reactions_daily``."""
    row = await fetch_one(db, _figures_statement(chat_id, user_id, period))
    assert row is not None  # a SELECT from one aggregate row has one row
    return _figures(row, period)


async def favourite_hours(
    db: Database, chat_id: int, user_id: int, period: Period
) -> list[HourCount]:
    """The member's TOP_HOURS busiest local hours of the period (ties: earlier hour first),
    from ``user_hours_monthly`` and ``user_hours_daily`` (local hours in the chat's zone)."""
    rows = period_rows(
        USER_HOURS_DAILY,
        USER_HOURS_MONTHLY,
        period,
        ("messages",),
        ("hour",),
        chat_id=chat_id,
        user_id=user_id,
    )
    messages = func.sum(rows.c.messages)
    statement = (
        select(rows.c.hour, messages.label("messages"))
        .group_by(rows.c.hour)
        .having(messages > 0)
        .order_by(messages.desc(), rows.c.hour)
        .limit(TOP_HOURS)
    )
    return [HourCount.model_validate(row) for row in await fetch_all(db, statement)]


def _partners(chat_id: int, user_id: int, period: Period, *, replied_by: bool) -> Statement:
    """Rows ``(partner, replies, replied_by, <names>)``: up to TOP_PARTNERS members the member
    replied to most in the period (``replied_by``: who replied to the member most), the top
    taken before the names are joined."""
    mine = {"author": user_id} if replied_by else {"replier": user_id}
    found = reply_pairs(chat_id, period, **mine)
    me, other = (
        (found.c.author_id, found.c.replier_id)
        if replied_by
        else (found.c.replier_id, found.c.author_id)
    )
    top = (
        select(other.label("partner"), found.c.replies)
        .where(me == user_id, other.is_not(None))
        .order_by(found.c.replies.desc(), other)
        .limit(TOP_PARTNERS)
        .subquery("top")
    )
    joined, names = with_names(top, top.c.partner, "partner")
    return select(top, literal(replied_by).label("replied_by"), *names).select_from(joined)


async def reply_partners(
    db: Database, chat_id: int, user_id: int, period: Period
) -> tuple[list[MemberCount], list[MemberCount]]:
    """(replied to, replied by): up to TOP_PARTNERS members the member replied to most in the
    period, and who replied to the member most; ties by user id; replies to oneself left
    out. One statement for both."""
    both = union_all(
        *(_partners(chat_id, user_id, period, replied_by=way) for way in (False, True))
    )
    rows = sorted(await fetch_all(db, both), key=lambda row: (-row["replies"], row["partner"]))
    found: tuple[list[MemberCount], list[MemberCount]] = ([], [])
    for row in rows:
        count = MemberCount(member=member(row, "partner"), count=int(row["replies"]))
        found[bool(row["replied_by"])].append(count)
    return found


async def member_stats(db: Database, chat_id: int, user_id: int, period: Period) -> MemberStats:
    """The report on member ``user_id`` of chat ``chat_id`` over ``period`` and the period of
    equal length before it (see :class:`MemberStats`). A user Tally never saw is named
    ``id<user_id>``; all their figures are 0. Four statements (the figures and name, the
    previous figures, the favourite hours, the reply partners), run at the same time on a
    pool (:func:`~tally.chatstore.read.connection.together`)."""
    asked = (chat_id, user_id)
    row, previous, hours, (replies_to, replied_by) = await together(
        db,
        partial(fetch_one, db, _figures_statement(*asked, period, named=True)),
        partial(member_figures, db, *asked, period.previous()),
        partial(favourite_hours, db, *asked, period),
        partial(reply_partners, db, *asked, period),
    )
    assert row is not None  # a SELECT from one aggregate row has one row
    return MemberStats(
        chat_id=chat_id,
        timezone=period.timezone,
        member=member({**row, "user_id": user_id}, "user_id"),
        figures=_figures(row, period),
        previous=previous,
        favourite_hours=hours,
        replies_to=replies_to,
        replied_by=replied_by,
    )
