"""A period's KPIs against the previous period of equal length, from the daily rollups.

Every figure comes from ``chat_daily`` and ``user_chat_daily`` (local days), in one
statement for both periods; the distinct-user figures in a single pass over the users'
days. Definitions are on :class:`~tally.common.chat_stats.models.Summary`.
"""

from sqlalchemy import func, select

from tally.common.chat_stats.connection import Database, Row, Statement, fetch_one
from tally.common.chat_stats.models import Compared, Summary
from tally.common.chat_stats.periods import Period
from tally.common.chat_stats.tables import USER_CHAT_DAILY, daily_sum

WEEK_DAYS = 7
MONTH_DAYS = 30
"""WAU and MAU windows (days ending on the period's last day)."""


def _windows(period: Period) -> dict[str, Period]:
    """The local-day windows the distinct-user figures count over, by figure name."""
    before = period.previous()
    return {
        "active_users": period,
        "wau": period.trailing(WEEK_DAYS),
        "mau": period.trailing(MONTH_DAYS),
        "prev_active_users": before,
        "prev_wau": before.trailing(WEEK_DAYS),
        "prev_mau": before.trailing(MONTH_DAYS),
    }


def _people(chat_id: int, period: Period) -> Statement:
    """One row: the distinct users of each window of :func:`_windows` and ``user_days`` (the
    sum of DAU) for the period and the previous one, in ONE pass over ``user_chat_daily``:
    the rows of the span all windows cover are grouped by user once, each user flagged per
    window (six COUNT DISTINCTs would scan the span six times)."""
    daily = USER_CHAT_DAILY.c
    windows = _windows(period)
    before = period.previous()
    first = min(window.start for window in windows.values())
    flags = [
        func.bool_or(daily.day.between(window.start, window.end)).label(name)
        for name, window in windows.items()
    ]
    days = [
        func.count().filter(daily.day.between(p.start, p.end)).label(name)
        for name, p in (("user_days", period), ("prev_user_days", before))
    ]
    per_user = (
        select(daily.user_id, *flags, *days)
        .where(daily.chat_id == chat_id, daily.day.between(first, period.end))
        .where(daily.messages > 0)
        .group_by(daily.user_id)
        .subquery("per_user")
    )
    counted = per_user.c
    return select(
        *(func.count().filter(counted[name]).label(name) for name in windows),
        *(
            func.coalesce(func.sum(counted[name]), 0).label(name)
            for name in ("user_days", "prev_user_days")
        ),
    )


def _sums(chat_id: int, period: Period) -> Statement:
    """One row: messages, joins and leaves of the period and the previous one (chat_daily)."""
    before = period.previous()
    figures = {"messages": "messages", "new_members": "joins", "left_members": "leaves"}
    return select(
        *(
            daily_sum(column, chat_id, period.start, period.end).label(name)
            for name, column in figures.items()
        ),
        *(
            daily_sum(column, chat_id, before.start, before.end).label(f"prev_{name}")
            for name, column in figures.items()
        ),
    )


def summary_statement(chat_id: int, period: Period) -> Statement:
    """One row: each figure for ``period`` (``<name>``) and the previous one (``prev_<name>``);
    ``user_days`` is the sum over the days of the users who posted that day."""
    people = _people(chat_id, period).subquery("people")
    sums = _sums(chat_id, period).subquery("sums")
    return select(people, sums)


def compare(value: float, previous: float) -> Compared:
    """``value`` beside ``previous``, with the change and the change in percent."""
    change = round(value - previous, 2)
    pct = round(change / previous * 100, 2) if previous else None
    return Compared(value=value, previous=previous, change=change, change_pct=pct)


def _compared(row: Row, name: str) -> Compared:
    return compare(int(row[name]), int(row[f"prev_{name}"]))


async def summary(db: Database, *, chat_id: int, period: Period) -> Summary:
    """The KPIs of ``period`` in chat ``chat_id`` against the previous period."""
    row = await fetch_one(db, summary_statement(chat_id, period))
    assert row is not None  # an aggregate-only SELECT has exactly one row
    dau = compare(
        round(row["user_days"] / period.days, 2), round(row["prev_user_days"] / period.days, 2)
    )
    before = period.previous()
    names = ("messages", "active_users", "wau", "mau", "new_members", "left_members")
    return Summary(
        chat_id=chat_id,
        timezone=period.timezone,
        start=period.start,
        end=period.end,
        previous_start=before.start,
        previous_end=before.end,
        dau=dau,
        **{name: _compared(row, name) for name in names},
    )
