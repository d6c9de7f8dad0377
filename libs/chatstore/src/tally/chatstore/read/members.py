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
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Date,
    Label,
    Subquery,
    any_,
    bindparam,
    case,
    exists,
    func,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by

from tally.chatstore.read.bound import CHAT, END, START, USER
from tally.chatstore.read.connection import Database, Statement, fetch_one
from tally.chatstore.read.conversation import ANONYMOUS, member, with_names
from tally.chatstore.read.fragments import listed, unlisted
from tally.chatstore.read.monthly import cover_values, covered_params, covered_rows, covered_sums
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


Covered = dict[str, BindParameter[Any]]
"""A period's :func:`~tally.chatstore.read.monthly.covered_params` and ``all_months`` (every
month it meets), as bound parameters."""


def _period_params(prefix: str) -> Covered:
    """The bound parameters of one period, named ``<prefix>months`` ... (this period: no
    prefix; the previous one: ``prev_``)."""
    all_months = bindparam(f"{prefix}all_months", [], type_=ARRAY(Date))
    return {**covered_params(prefix), "all_months": all_months}


def _period_values(prefix: str, period: Period) -> dict[str, object]:
    all_months = months_of(period.start, period.end)
    return {**cover_values(period, prefix), f"{prefix}all_months": all_months}


def _figure_columns(prefix: str, days: Covered) -> list[Label[object]]:
    """The member's figures over one period as scalar columns ``<prefix>messages``,
    ``words``, ``rank`` (0: posted nothing), ``months`` and ``masks`` (the day masks of the
    months the period meets), ``received`` and ``given``. Sums read whole months and at
    most 15 days at each end (:func:`covered_sums`); the rank counts the members with more
    messages, from the same sums of every member."""
    everyone = covered_sums(USER_CHAT_DAILY, USER_CHAT_MONTHLY, USER_COUNTS, days, chat_id=CHAT)
    sums = select(everyone).cte(f"{prefix}everyone")
    mine = select(sums).where(sums.c.user_id == USER).cte(f"{prefix}mine")
    messages = func.coalesce(select(mine.c.messages).scalar_subquery(), 0)
    ahead = select(func.count()).where(sums.c.messages > messages).scalar_subquery()
    monthly = USER_CHAT_MONTHLY.c
    masks = [
        select(func.array_agg(aggregate_order_by(column, monthly.month)))
        .where(monthly.chat_id == CHAT, monthly.user_id == USER)
        .where(monthly.month == any_(days["all_months"]))
        .scalar_subquery()
        .label(f"{prefix}{name}")
        for name, column in (("months", monthly.month), ("masks", monthly.days))
    ]
    reactions = covered_sums(
        USER_REACTIONS_DAILY, USER_REACTIONS_MONTHLY, REACTIONS, days, chat_id=CHAT, user_id=USER
    )
    given = [
        func.coalesce(select(reactions.c[name]).scalar_subquery(), 0).label(f"{prefix}{name}")
        for name in REACTIONS
    ]
    return [
        messages.label(f"{prefix}messages"),
        func.coalesce(select(mine.c.words).scalar_subquery(), 0).label(f"{prefix}words"),
        case((messages > 0, ahead + 1), else_=0).label(f"{prefix}rank"),
        *masks,
        *given,
    ]


THIS, PREVIOUS = _period_params(""), _period_params("prev_")
FIGURES = select(*_figure_columns("", THIS))
"""One row: the member's figures over the period (:func:`_figure_columns`)."""


def _active_days(months: list[date] | None, masks: list[int] | None, period: Period) -> list[date]:
    """The days of ``period`` whose bit is set in the day mask of their month (sorted)."""
    days: list[date] = []
    for month, mask in zip(months or [], masks or [], strict=True):
        within = mask & day_mask(month, period.start, period.end)
        days += [month.replace(day=bit + 1) for bit in range(31) if within >> bit & 1]
    return days


def _figures(row: Row, period: Period, prefix: str = "") -> MemberFigures:
    days = _active_days(row[f"{prefix}months"], row[f"{prefix}masks"], period)
    return MemberFigures(
        start=period.start,
        end=period.end,
        messages=int(row[f"{prefix}messages"]),
        words=int(row[f"{prefix}words"]),
        active_days=len(days),
        rank=int(row[f"{prefix}rank"]) or None,
        longest_streak=longest_streak(days),
        reactions_received=int(row[f"{prefix}received"]),
        reactions_given=int(row[f"{prefix}given"]),
    )


async def member_figures(db: Database, chat_id: int, user_id: int, period: Period) -> MemberFigures:
    """The member's figures over ``period`` (see :class:`MemberFigures`), in one statement:
    messages, words and the rank from ``user_chat_monthly`` and ``user_chat_daily``, active
    days from ``user_chat_monthly``'s day masks, reactions from ``user_reactions_monthly``
    and ``user_reactions_daily``."""
    values = {"chat_id": chat_id, "user_id": user_id, **_period_values("", period)}
    row = await fetch_one(db, FIGURES, values)
    assert row is not None  # a SELECT without FROM has one row
    return _figures(row, period)


def _top_hours() -> Subquery:
    """``(hour, messages)``: the member's TOP_HOURS busiest local hours of the period
    (:data:`THIS`), from ``user_hours_monthly`` and ``user_hours_daily``."""
    rows = covered_rows(
        USER_HOURS_DAILY,
        USER_HOURS_MONTHLY,
        ("messages",),
        ("hour",),
        THIS,
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
        .subquery("hours")
    )


def _top_partners(*, replied_by: bool) -> Subquery:
    """``(partner, replies, <names>)``: up to TOP_PARTNERS members the member replied to most
    in local days :data:`START`..:data:`END` (``replied_by``: who replied to the member
    most), from ``reply_pairs_daily``, the top taken before the names are joined; anonymous
    repliers (``user_id`` 0) left out."""
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
    return select(top, *names).select_from(joined).subquery("by" if replied_by else "to")


def _build_report() -> Statement:
    """One row: the member's names, figures over the period and the previous one
    (``prev_…``), favourite hours (``hours_hour``, ``hours_messages`` arrays) and reply
    partners both ways (``to_…`` and ``by_…`` arrays), built once with bound parameters:
    building it per call took as long in Python as PostgreSQL took to answer it, and one
    statement is one round trip."""
    hours = _top_hours()
    lists = [listed(hours, "hours_", (hours.c.messages.desc(), hours.c.hour))]
    for way in ("to_", "by_"):
        rows = _top_partners(replied_by=way == "by_")
        lists.append(listed(rows, way, (rows.c.replies.desc(), rows.c.partner)))
    return select(
        *_names(USER),
        *_figure_columns("", THIS),
        *_figure_columns("prev_", PREVIOUS),
        *(column for listed in lists for column in listed.c),
    ).select_from(lists[0].join(lists[1], true()).join(lists[2], true()))  # one row each


REPORT = _build_report()
HOUR_COLUMNS = ("hour", "messages")
PARTNER_COLUMNS = (
    "partner",
    "replies",
    "partner_username",
    "partner_first_name",
    "partner_last_name",
)


def _hours(row: Row) -> list[HourCount]:
    return [HourCount.model_validate(hour) for hour in unlisted(row, "hours_", HOUR_COLUMNS)]


def _partners(row: Row, way: str) -> list[MemberCount]:
    found = unlisted(row, way, PARTNER_COLUMNS)
    return [MemberCount(member=member(one, "partner"), count=int(one["replies"])) for one in found]


async def member_stats(db: Database, chat_id: int, user_id: int, period: Period) -> MemberStats:
    """The report on member ``user_id`` of chat ``chat_id`` over ``period`` and the period of
    equal length before it (see :class:`MemberStats`), in one statement (:func:`_build_report`).
    A user Tally never saw is named ``id<user_id>``; all their figures are 0. Favourite hours:
    the TOP_HOURS busiest local hours (ties: earlier hour first) from ``user_hours_monthly``
    and ``user_hours_daily`` (local hours in the chat's zone); reply partners: up to
    TOP_PARTNERS members the member replied to most, and who replied to the member most (ties
    by user id; replies to oneself are not in ``reply_pairs_daily``)."""
    before = period.previous()
    values = {
        "chat_id": chat_id,
        "user_id": user_id,
        "start": period.start,
        "end": period.end,
        **_period_values("", period),
        **_period_values("prev_", before),
    }
    row = await fetch_one(db, REPORT, values)
    assert row is not None  # a SELECT without FROM has one row
    return MemberStats(
        chat_id=chat_id,
        timezone=period.timezone,
        member=member({**row, "user_id": user_id}, "user_id"),
        figures=_figures(row, period),
        previous=_figures(row, before, "prev_"),
        favourite_hours=_hours(row),
        replies_to=_partners(row, "to_"),
        replied_by=_partners(row, "by_"),
    )
