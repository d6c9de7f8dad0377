"""A period's KPIs against the previous period of equal length, from the daily rollups.

Every figure comes from ``chat_daily`` and ``user_chat_daily`` (local days), in one
statement for both periods. Definitions are on :class:`~tally.common.chat_stats.models.Summary`.
"""

from sqlalchemy import ScalarSelect, select

from tally.common.chat_stats.connection import Database, Row, Statement, fetch_one
from tally.common.chat_stats.models import Compared, Summary
from tally.common.chat_stats.periods import Period
from tally.common.chat_stats.tables import active_users, daily_sum, user_days

WEEK_DAYS = 7
MONTH_DAYS = 30
"""WAU and MAU windows (days ending on the period's last day)."""


def _figures(chat_id: int, period: Period) -> dict[str, ScalarSelect[int]]:
    week, month = period.trailing(WEEK_DAYS), period.trailing(MONTH_DAYS)
    start, end = period.start, period.end
    return {
        "messages": daily_sum("messages", chat_id, start, end),
        "active_users": active_users(chat_id, start, end),
        "user_days": user_days(chat_id, start, end),
        "wau": active_users(chat_id, week.start, week.end),
        "mau": active_users(chat_id, month.start, month.end),
        "new_members": daily_sum("joins", chat_id, start, end),
        "left_members": daily_sum("leaves", chat_id, start, end),
    }


def summary_statement(chat_id: int, period: Period) -> Statement:
    """One row: each figure for ``period`` (``<name>``) and the previous one (``prev_<name>``);
    ``user_days`` is the sum over the days of the users who posted that day."""
    current = _figures(chat_id, period)
    previous = _figures(chat_id, period.previous())
    return select(
        *(query.label(name) for name, query in current.items()),
        *(query.label(f"prev_{name}") for name, query in previous.items()),
    )


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
