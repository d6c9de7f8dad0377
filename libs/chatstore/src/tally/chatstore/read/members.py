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

from sqlalchemy import (
    ColumnElement,
    Date,
    Label,
    any_,
    bindparam,
    case,
    exists,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by

from tally.chatstore.read.bound import CHAT, END, START, USER
from tally.chatstore.read.connection import Database, Statement, fetch_all, fetch_one, together
from tally.chatstore.read.conversation import ANONYMOUS, member, with_names
from tally.chatstore.read.monthly import COVERED, cover_days, covered_rows, covered_sums
from tally.chatstore.read.periods import Period
from tally.chatstore.read.rankings import USER_COUNTS
from tally.chatstore.read.summary import day_mask, months_of
from tally.chatstore.tables import (
    MEMBER_EVENTS,
    REPLY_PAIRS_DAILY,
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


def _names(user_id: ColumnElement[int]) -> list[Label[object]]:
    """The member's name columns (``user_id_username`` ...), as scalar subqueries."""
    return [
        select(USERS.c[part])
        .where(USERS.c.user_id == user_id)
        .scalar_subquery()
        .label(f"user_id_{part}")
        for part in ("username", "first_name", "last_name")
    ]


MONTHS = bindparam("all_months", [], type_=ARRAY(Date))
"""Every month the period meets (for the day masks)."""


def _build_figures(*, named: bool) -> Statement:
    """One row: the member's ``messages``, ``words``, ``rank`` (0: posted nothing), the day
    masks of the months the period meets (``months``, ``masks``), ``received`` and ``given``
    reactions; with ``named``, the member's name columns too. Sums read whole months and at
    most 15 days at each end (:func:`covered_sums`); the rank counts the members with more
    messages, from the same sums of every member. Built once, with bound parameters
    (:func:`_figures_values` gives each call's values): building it took 6 ms of Python,
    as long as PostgreSQL took to answer it."""
    everyone = covered_sums(USER_CHAT_DAILY, USER_CHAT_MONTHLY, USER_COUNTS, COVERED, chat_id=CHAT)
    sums = select(everyone).cte("everyone")
    mine = select(sums).where(sums.c.user_id == USER).cte("mine")
    messages = func.coalesce(select(mine.c.messages).scalar_subquery(), 0)
    ahead = select(func.count()).where(sums.c.messages > messages).scalar_subquery()
    monthly = USER_CHAT_MONTHLY.c
    masks = (
        select(
            func.array_agg(aggregate_order_by(monthly.month, monthly.month)).label("months"),
            func.array_agg(aggregate_order_by(monthly.days, monthly.month)).label("masks"),
        )
        .where(monthly.chat_id == CHAT, monthly.user_id == USER, monthly.month == any_(MONTHS))
        .subquery("masks")
    )
    reactions = covered_sums(
        USER_REACTIONS_DAILY, USER_REACTIONS_MONTHLY, REACTIONS, COVERED, chat_id=CHAT, user_id=USER
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
        *(_names(USER) if named else ()),
    ).select_from(masks)


FIGURES = {named: _build_figures(named=named) for named in (False, True)}


def _figures_values(chat_id: int, user_id: int, period: Period) -> dict[str, object]:
    """The values of :data:`FIGURES`' parameters for member ``user_id`` of chat ``chat_id``
    over ``period``."""
    return {
        "chat_id": chat_id,
        "user_id": user_id,
        "all_months": months_of(period.start, period.end),
        **cover_days(period),
    }


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
    row = await fetch_one(db, FIGURES[False], _figures_values(chat_id, user_id, period))
    assert row is not None  # a SELECT from one aggregate row has one row
    return _figures(row, period)


def _build_hours() -> Statement:
    """Rows ``(hour, messages)``: the member's TOP_HOURS busiest local hours (:data:`CHAT`,
    :data:`USER`, :data:`~tally.chatstore.read.monthly.COVERED`), built once."""
    rows = covered_rows(
        USER_HOURS_DAILY,
        USER_HOURS_MONTHLY,
        ("messages",),
        ("hour",),
        COVERED,
        chat_id=CHAT,
        user_id=USER,
    )
    messages = func.sum(rows.c.messages)
    return (
        select(rows.c.hour, messages.label("messages"))
        .group_by(rows.c.hour)
        .having(messages > 0)
        .order_by(messages.desc(), rows.c.hour)
        .limit(TOP_HOURS)
    )


HOURS = _build_hours()


async def favourite_hours(
    db: Database, chat_id: int, user_id: int, period: Period
) -> list[HourCount]:
    """The member's TOP_HOURS busiest local hours of the period (ties: earlier hour first),
    from ``user_hours_monthly`` and ``user_hours_daily`` (local hours in the chat's zone)."""
    values = {"chat_id": chat_id, "user_id": user_id, **cover_days(period)}
    return [HourCount.model_validate(row) for row in await fetch_all(db, HOURS, values)]


def _build_partners(*, replied_by: bool) -> Statement:
    """Rows ``(partner, replies, replied_by, <names>)``: up to TOP_PARTNERS members the member
    (:data:`USER`) replied to most in local days :data:`START`..:data:`END` (``replied_by``:
    who replied to the member most), from ``reply_pairs_daily``, the top taken before the
    names are joined; anonymous repliers (``user_id`` 0) left out."""
    daily = REPLY_PAIRS_DAILY.c
    author, replier = daily.replied_user_id, daily.user_id
    me, other = (author, replier) if replied_by else (replier, author)
    replies = func.sum(daily.replies)
    top = (
        select(other.label("partner"), replies.label("replies"))
        .where(daily.chat_id == CHAT, me == USER, replier != ANONYMOUS)
        .where(daily.day.between(START, END))
        .group_by(other)
        .having(replies > 0)
        .order_by(replies.desc(), other)
        .limit(TOP_PARTNERS)
        .subquery("top")
    )
    joined, names = with_names(top, top.c.partner, "partner")
    return select(top, literal(replied_by).label("replied_by"), *names).select_from(joined)


PARTNERS = union_all(*(_build_partners(replied_by=way) for way in (False, True)))


async def reply_partners(
    db: Database, chat_id: int, user_id: int, period: Period
) -> tuple[list[MemberCount], list[MemberCount]]:
    """(replied to, replied by): up to TOP_PARTNERS members the member replied to most in the
    period, and who replied to the member most; ties by user id; replies to oneself are not
    in ``reply_pairs_daily``. One statement for both, built once."""
    values = {"chat_id": chat_id, "user_id": user_id, "start": period.start, "end": period.end}
    rows = await fetch_all(db, PARTNERS, values)
    found: tuple[list[MemberCount], list[MemberCount]] = ([], [])
    for row in sorted(rows, key=lambda row: (-row["replies"], row["partner"])):
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
        partial(fetch_one, db, FIGURES[True], _figures_values(*asked, period)),
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
