"""Who joined and left a chat in a period: per local day from ``chat_daily``; how members
joined, who added them, and churn from ``member_events`` (``ix_member_events_chat_time``:
``chat_id, occurred_at``); the member count on each day with a snapshot from
``member_counts`` (its key: ``chat_id, day``)."""

from sqlalchemy import ColumnElement, func, select

from tally.chatstore.read.connection import Database, fetch_all, fetch_one
from tally.chatstore.read.periods import Period
from tally.chatstore.read.rankings import check_limit, ranked
from tally.chatstore.tables import CHAT_DAILY, MEMBER_COUNTS, MEMBER_EVENTS
from tally.contracts.group_reports import DayCount, DayFlow, MemberFlow


def _in_period(chat_id: int, period: Period) -> list[ColumnElement[bool]]:
    events = MEMBER_EVENTS.c
    return [
        events.chat_id == chat_id,
        events.occurred_at >= period.utc_start,
        events.occurred_at < period.utc_end,
    ]


async def _days(db: Database, chat_id: int, period: Period) -> list[DayFlow]:
    daily = CHAT_DAILY.c
    statement = select(daily.day, daily.joins, daily.leaves).where(
        daily.chat_id == chat_id, daily.day.between(period.start, period.end)
    )
    found = {row["day"]: row for row in await fetch_all(db, statement)}
    return [
        DayFlow(day=day, joins=found[day]["joins"], leaves=found[day]["leaves"])
        if day in found
        else DayFlow(day=day, joins=0, leaves=0)
        for day in period.each_day()
    ]


async def member_counts(db: Database, chat_id: int, period: Period) -> list[DayCount]:
    """The member count of chat ``chat_id`` on each day of ``period`` that has a snapshot,
    in day order (days without one are absent)."""
    counts = MEMBER_COUNTS.c
    statement = (
        select(counts.day, counts.count)
        .where(counts.chat_id == chat_id, counts.day.between(period.start, period.end))
        .order_by(counts.day)
    )
    return [DayCount(day=row["day"], count=row["count"]) for row in await fetch_all(db, statement)]


async def _ways_and_churn(db: Database, chat_id: int, period: Period) -> dict[str, int]:
    """via_link, added, joined_members and churned of the period."""
    events = MEMBER_EVENTS.c
    joining = events.change == "join"
    ways = select(
        func.count().filter(joining, events.via_link).label("via_link"),
        func.count().filter(joining, events.inviter_id.is_not(None)).label("added"),
    ).where(*_in_period(chat_id, period))
    per_member = (
        select(
            func.min(events.occurred_at).filter(joining).label("joined"),
            func.max(events.occurred_at).filter(events.change == "leave").label("left"),
        )
        .where(*_in_period(chat_id, period))
        .group_by(events.user_id)
        .subquery("per_member")
    )
    churn = select(
        func.count(per_member.c.joined).label("joined_members"),
        func.count().filter(per_member.c.left > per_member.c.joined).label("churned"),
    )
    way_row, churn_row = await fetch_one(db, ways), await fetch_one(db, churn)
    assert way_row is not None and churn_row is not None  # aggregate-only SELECTs
    return {name: int(value) for name, value in {**way_row, **churn_row}.items()}


async def member_flow(db: Database, chat_id: int, period: Period, limit: int = 10) -> MemberFlow:
    """Joins and leaves of chat ``chat_id`` in ``period`` (see :class:`MemberFlow`), with the
    ``limit`` members who added most others (ties by user id) and the member count on the
    days with a snapshot. Raises StatsRequestError for a
    limit outside 1..MAX_TOP."""
    check_limit(limit)
    events = MEMBER_EVENTS.c
    inviters = (
        select(events.inviter_id.label("user_id"), func.count().label("value"))
        .where(*_in_period(chat_id, period), events.change == "join")
        .where(events.inviter_id.is_not(None))
        .group_by(events.inviter_id)
        .subquery("inviters")
    )
    days = await _days(db, chat_id, period)
    counts = await _ways_and_churn(db, chat_id, period)
    joined = counts["joined_members"]
    snapshots = await member_counts(db, chat_id, period)
    first, last = (snapshots[0].count, snapshots[-1].count) if snapshots else (None, None)
    return MemberFlow(
        chat_id=chat_id,
        timezone=period.timezone,
        start=period.start,
        end=period.end,
        days=days,
        joins=sum(day.joins for day in days),
        leaves=sum(day.leaves for day in days),
        top_inviters=await ranked(db, inviters, limit),
        churn_rate=round(counts["churned"] / joined, 4) if joined else None,
        member_counts=snapshots,
        count_first=first,
        count_last=last,
        count_change=last - first if first is not None and last is not None else None,
        **counts,
    )
