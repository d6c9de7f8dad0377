"""Weekly retention cohorts, and what applying a chat's retention setting would delete.

A user's cohort is the local ISO week (Monday) of the first day they joined (``member_events``)
or posted (``user_chat_daily``), over the chat's whole history. Cohorts whose week starts in
the period are given; cell ``k`` is the share of the cohort that posted in week ``cohort +
k`` (k = 0..weeks), counting days up to the period's last day, and only for weeks that
start by then.
"""

from datetime import date, datetime, timedelta

from sqlalchemy import (
    CTE,
    Date,
    DateTime,
    bindparam,
    func,
    literal,
    null,
    select,
    union_all,
)

from tally.chatstore.read.connection import Database, Statement, fetch_all, fetch_one
from tally.chatstore.read.fragments import local_day, week_of
from tally.chatstore.read.models import ChatInfo, Cohort, Retention, RetentionPreview
from tally.chatstore.read.periods import Period, week_start
from tally.chatstore.tables import MEMBER_EVENTS, RAW_TABLES, USER_CHAT_DAILY

MAX_WEEKS = 52
PREVIEWED = ("messages", "member_events", "reactions")
"""The raw tables whose rows a retention preview counts (:class:`RetentionPreview`)."""


def _cohorts(chat_id: int, period: Period) -> CTE:
    daily, events = USER_CHAT_DAILY.c, MEMBER_EVENTS.c
    first_post = (
        select(daily.user_id, func.min(daily.day).label("first_day"))
        .where(daily.chat_id == chat_id, daily.messages > 0)
        .group_by(daily.user_id)
    )
    first_join = (
        select(
            events.user_id,
            func.min(local_day(events.occurred_at, period.timezone)).label("first_day"),
        )
        .where(events.chat_id == chat_id, events.change == "join")
        .group_by(events.user_id)
    )
    firsts = union_all(first_post, first_join).subquery("firsts")
    cohort = week_of(func.min(firsts.c.first_day, type_=Date())).label("cohort")
    cohorts = select(firsts.c.user_id, cohort).group_by(firsts.c.user_id).subquery("first_weeks")
    return (
        select(cohorts)
        .where(cohorts.c.cohort.between(week_start(period.start), period.end))
        .cte("cohorts")
    )


def retention_statement(chat_id: int, period: Period, weeks: int) -> Statement:
    """Rows ``(cohort, week, users)``: with ``week`` NULL, the cohort's size; else how many
    of the cohort posted in ``week`` (cohort <= week <= cohort + ``weeks`` weeks)."""
    cohorts = _cohorts(chat_id, period)
    daily = USER_CHAT_DAILY.c
    activity = (
        select(daily.user_id, week_of(daily.day).label("week"))
        .distinct()
        .where(daily.chat_id == chat_id, daily.messages > 0)
        .where(daily.day.between(week_start(period.start), period.end))
        .subquery("activity")
    )
    sizes = select(cohorts.c.cohort, null().label("week"), func.count().label("users")).group_by(
        cohorts.c.cohort
    )
    horizon = cohorts.c.cohort + literal(7 * weeks)
    active = (
        select(cohorts.c.cohort, activity.c.week, func.count().label("users"))
        .join(activity, activity.c.user_id == cohorts.c.user_id)
        .where(activity.c.week.between(cohorts.c.cohort, horizon))
        .group_by(cohorts.c.cohort, activity.c.week)
    )
    return select(union_all(sizes, active).subquery("cells"))


def _cohort(week: date, size: int, active: dict[date, int], period: Period, weeks: int) -> Cohort:
    starts = [week + timedelta(weeks=k) for k in range(weeks + 1)]
    counts = [active.get(start, 0) for start in starts if start <= period.end]
    return Cohort(week=week, size=size, active=counts, shares=[round(n / size, 4) for n in counts])


async def retention(db: Database, *, chat_id: int, period: Period, weeks: int = 8) -> Retention:
    """The weekly cohorts of ``period`` in chat ``chat_id``, each followed ``weeks`` weeks."""
    sizes: dict[date, int] = {}
    active: dict[date, dict[date, int]] = {}
    for row in await fetch_all(db, retention_statement(chat_id, period, weeks)):
        if row["week"] is None:
            sizes[row["cohort"]] = row["users"]
        else:
            active.setdefault(row["cohort"], {})[row["week"]] = row["users"]
    cohorts = [
        _cohort(week, sizes[week], active.get(week, {}), period, weeks) for week in sorted(sizes)
    ]
    return Retention(
        chat_id=chat_id,
        timezone=period.timezone,
        start=period.start,
        end=period.end,
        weeks=weeks,
        cohorts=cohorts,
    )


def preview_statement(chat_id: int, cutoff: datetime) -> Statement:
    """One row: the chat's raw rows from before ``cutoff`` in each table of PREVIEWED,
    labelled by table name."""
    at = bindparam("cutoff", cutoff, type_=DateTime(timezone=True))
    return select(
        *(
            select(func.count())
            .where(table.c.chat_id == chat_id, moment < at)
            .scalar_subquery()
            .label(table.name)
            for table, moment in RAW_TABLES
            if table.name in PREVIEWED
        )
    )


async def retention_preview(db: Database, *, chat: ChatInfo, now: datetime) -> RetentionPreview:
    """What applying ``chat``'s retention at ``now`` would delete (nothing when it is off)."""
    days = chat.settings.retention_days
    if days is None:
        return RetentionPreview(
            chat_id=chat.chat_id,
            retention_days=None,
            cutoff=None,
            messages=0,
            member_events=0,
            reactions=0,
        )
    cutoff = now - timedelta(days=days)
    row = await fetch_one(db, preview_statement(chat.chat_id, cutoff))
    assert row is not None  # an aggregate-only SELECT has exactly one row
    return RetentionPreview(chat_id=chat.chat_id, retention_days=days, cutoff=cutoff, **row)
