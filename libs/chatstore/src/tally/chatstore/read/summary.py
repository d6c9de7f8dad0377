"""A period's KPIs against the previous period of equal length, from the rollups.

Sums come from ``chat_daily``; the distinct-user figures and the sum of DAU from
``user_chat_monthly`` (each member's active local days of a month as a bit mask), in one
statement for both periods. Definitions are on
:class:`~tally.chatstore.read.models.Summary`.
"""

from datetime import date, timedelta

from sqlalchemy import ColumnElement, case, cast, distinct, func, select, true
from sqlalchemy.dialects.postgresql import BIT

from tally.chatstore.read.connection import Database, Statement, fetch_one
from tally.chatstore.read.fragments import daily_sum
from tally.chatstore.read.models import Compared, Summary
from tally.chatstore.read.periods import Period
from tally.chatstore.tables import USER_CHAT_MONTHLY, Row

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


def months_of(first: date, last: date) -> list[date]:
    """The first day of every month from ``first``'s to ``last``'s."""
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def day_mask(month: date, start: date, end: date) -> int:
    """The bits of ``user_chat_monthly.days`` for the days of ``month`` within ``start`` ..
    ``end`` (inclusive): bit ``d - 1`` for day ``d``; 0 when they do not meet."""
    last = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    low, high = max(start, month), min(end, last)
    if low > high:
        return 0
    return ((1 << high.day) - 1) & ~((1 << (low.day - 1)) - 1)


def masked_days(window: Period, months: list[date]) -> ColumnElement[int]:
    """``days`` of a user_chat_monthly row keeping only the window's days of its month."""
    monthly = USER_CHAT_MONTHLY.c
    masks = {month: day_mask(month, window.start, window.end) for month in months}
    return monthly.days.op("&")(case(masks, value=monthly.month, else_=0))


def _people(chat_id: int, period: Period) -> Statement:
    """One row: the distinct users of each window of :func:`_windows` and ``user_days`` (the
    sum of DAU) for the period and the previous one, from ``user_chat_monthly``: one row per
    member per month, a window's days picked out of each month's day mask (exact, and a
    few thousand rows where ``user_chat_daily`` would group tens of thousands)."""
    monthly = USER_CHAT_MONTHLY.c
    windows = _windows(period)
    first = min(window.start for window in windows.values())
    months = months_of(first, period.end)
    counts = [
        func.count(distinct(monthly.user_id)).filter(masked_days(window, months) != 0).label(name)
        for name, window in windows.items()
    ]
    days = [
        func.coalesce(func.sum(func.bit_count(cast(masked_days(p, months), BIT(32)))), 0).label(
            name
        )
        for name, p in (("user_days", period), ("prev_user_days", period.previous()))
    ]
    return select(*counts, *days).where(
        monthly.chat_id == chat_id, monthly.month.between(months[0], months[-1])
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
    return select(people, sums).select_from(people.join(sums, true()))  # one row each


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
