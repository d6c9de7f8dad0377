"""One member's report (``/user``): figures against the previous period, favourite hours,
reply partners; and finding a member of a chat by username.

Figures come from ``user_chat_daily`` (``ix_user_chat_daily_user``: ``chat_id, user_id,
day``); hours from ``messages`` (``ix_messages_chat_user_sent``); reply partners from
``reply_pairs_daily``; reactions from ``user_reactions_monthly`` and ``user_reactions_daily``
(:mod:`tally.chatstore.read.monthly`).
"""

from datetime import date, timedelta
from functools import partial

from sqlalchemy import Integer, cast, exists, func, select

from tally.chatstore.read.connection import Database, fetch_all, fetch_one, together
from tally.chatstore.read.conversation import (
    member,
    reply_pairs,
    with_names,
)
from tally.chatstore.read.monthly import member_sums, period_rows
from tally.chatstore.read.periods import Period
from tally.chatstore.read.rankings import posted
from tally.chatstore.tables import (
    MEMBER_EVENTS,
    USER_CHAT_DAILY,
    USER_HOURS_DAILY,
    USER_HOURS_MONTHLY,
    USER_REACTIONS_DAILY,
    USER_REACTIONS_MONTHLY,
    USERS,
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


async def _standing(db: Database, chat_id: int, user_id: int, period: Period) -> tuple[int, ...]:
    """(messages, words, rank) of the member in the period (rank 0: posted nothing)."""
    values = posted(chat_id, period, "messages")
    daily = USER_CHAT_DAILY.c
    words = (
        select(func.coalesce(func.sum(daily.words), 0))
        .where(daily.chat_id == chat_id, daily.user_id == user_id)
        .where(daily.day.between(period.start, period.end))
        .scalar_subquery()
    )
    mine = select(values.c.value).where(values.c.user_id == user_id).scalar_subquery()
    more = select(func.count()).where(values.c.value > mine).scalar_subquery()
    statement = select(
        func.coalesce(mine, 0).label("messages"),
        words.label("words"),
        func.coalesce(more + cast(mine.is_not(None), Integer), 0).label("rank"),
    )
    row = await fetch_one(db, statement)
    assert row is not None  # a SELECT without FROM has one row
    return int(row["messages"]), int(row["words"]), int(row["rank"])


async def _active_days(db: Database, chat_id: int, user_id: int, period: Period) -> list[date]:
    daily = USER_CHAT_DAILY.c
    statement = (
        select(daily.day)
        .where(daily.chat_id == chat_id, daily.user_id == user_id, daily.messages > 0)
        .where(daily.day.between(period.start, period.end))
        .order_by(daily.day)
    )
    return [row["day"] for row in await fetch_all(db, statement)]


async def _reactions(db: Database, chat_id: int, user_id: int, period: Period) -> tuple[int, int]:
    """(received, given) reactions of the member on messages sent in the period."""
    sums = member_sums(
        USER_REACTIONS_DAILY, USER_REACTIONS_MONTHLY, chat_id, period, REACTIONS, user_id
    )
    statement = select(
        *(func.coalesce(func.sum(sums.c[name]), 0).label(name) for name in REACTIONS)
    )
    row = await fetch_one(db, statement)
    assert row is not None  # an aggregate-only SELECT has one row
    return int(row["received"]), int(row["given"])


async def member_figures(db: Database, chat_id: int, user_id: int, period: Period) -> MemberFigures:
    """The member's figures over ``period`` (see :class:`MemberFigures`); its three
    statements run at the same time on a pool (:func:`together`)."""
    asked = (db, chat_id, user_id, period)
    (messages, words, rank), days, (received, given) = await together(
        db, partial(_standing, *asked), partial(_active_days, *asked), partial(_reactions, *asked)
    )
    return MemberFigures(
        start=period.start,
        end=period.end,
        messages=messages,
        words=words,
        active_days=len(days),
        rank=rank or None,
        longest_streak=longest_streak(days),
        reactions_received=received,
        reactions_given=given,
    )


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


async def reply_partners(
    db: Database, chat_id: int, user_id: int, period: Period, *, replied_by: bool
) -> list[MemberCount]:
    """Up to TOP_PARTNERS members the member replied to most in the period (``replied_by``:
    who replied to the member most); ties by user id; replies to oneself left out."""
    mine = {"author": user_id} if replied_by else {"replier": user_id}
    found = reply_pairs(chat_id, period, **mine)
    me, other = (
        (found.c.author_id, found.c.replier_id)
        if replied_by
        else (found.c.replier_id, found.c.author_id)
    )
    joined, names = with_names(found, other, "partner")
    statement = (
        select(other.label("partner"), found.c.replies, *names)
        .select_from(joined)
        .where(me == user_id, other.is_not(None))
        .order_by(found.c.replies.desc(), other)
        .limit(TOP_PARTNERS)
    )
    rows = await fetch_all(db, statement)
    return [MemberCount(member=member(row, "partner"), count=int(row["replies"])) for row in rows]


async def member_stats(db: Database, chat_id: int, user_id: int, period: Period) -> MemberStats:
    """The report on member ``user_id`` of chat ``chat_id`` over ``period`` and the period of
    equal length before it (see :class:`MemberStats`). A user Tally never saw is named
    ``id<user_id>``; all their figures are 0. Its twelve statements run at the same time on a
    pool (:func:`~tally.chatstore.read.connection.together`)."""
    names = select(
        USERS.c.user_id,
        USERS.c.username.label("user_id_username"),
        USERS.c.first_name.label("user_id_first_name"),
        USERS.c.last_name.label("user_id_last_name"),
    ).where(USERS.c.user_id == user_id)
    asked = (db, chat_id, user_id)
    row, figures, previous, hours, replies_to, replied_by = await together(
        db,
        partial(fetch_one, db, names),
        partial(member_figures, *asked, period),
        partial(member_figures, *asked, period.previous()),
        partial(favourite_hours, *asked, period),
        partial(reply_partners, *asked, period, replied_by=False),
        partial(reply_partners, *asked, period, replied_by=True),
    )
    return MemberStats(
        chat_id=chat_id,
        timezone=period.timezone,
        member=member(row or {"user_id": user_id}, "user_id"),
        figures=figures,
        previous=previous,
        favourite_hours=hours,
        replies_to=replies_to,
        replied_by=replied_by,
    )
