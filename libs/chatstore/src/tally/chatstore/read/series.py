"""Time series of messages, DAU and member changes in local-time buckets.

* ``day`` and ``week`` buckets come from the daily rollups (local days). A week is an ISO
  week (Monday first); the first and last are cut to the period, and a week's point starts at
  its first day inside the period. DAU per week is the mean over those days.
* ``hour`` buckets are the local hours of the period (23 or 25 on a DST change day), each
  starting at the instant it began. Messages come from ``chat_hourly`` (UTC hours) when every
  offset of the zone in the period is a whole number of hours, else from ``messages``; member
  changes come from ``member_events``. DAU has no hourly meaning and is refused.
"""

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, func, select

from tally.chatstore.read.connection import Database, Statement, fetch_all
from tally.chatstore.read.errors import StatsRequestError
from tally.chatstore.read.fragments import local_hour, week_of
from tally.chatstore.read.models import Bucket, SeriesMetric, SeriesPoint, Timeseries
from tally.chatstore.read.periods import Period, week_start
from tally.chatstore.tables import (
    CHAT_DAILY,
    CHAT_HOURLY,
    MEMBER_EVENTS,
    MESSAGES,
    USER_CHAT_DAILY,
    Row,
)

MAX_HOURLY_DAYS = 92
"""The longest period hourly buckets cover (about 2,200 points)."""


def _bucket(day: ColumnElement[date], weekly: bool) -> ColumnElement[date]:
    return week_of(day) if weekly else day


def daily_statement(
    chat_id: int, period: Period, metric: SeriesMetric, *, weekly: bool
) -> Statement:
    """Rows ``(bucket, value)`` (``bucket, joins, leaves`` for members) per local day or per
    week (its Monday), for buckets with rows. DAU's value is the bucket's user-days."""
    if metric == "dau":
        users = USER_CHAT_DAILY.c
        key = _bucket(users.day, weekly).label("bucket")
        return (
            select(key, func.count().label("value"))
            .where(users.chat_id == chat_id, users.day.between(period.start, period.end))
            .where(users.messages > 0)
            .group_by(key)
        )
    daily = CHAT_DAILY.c
    key = _bucket(daily.day, weekly).label("bucket")
    values = (
        [func.sum(daily.messages).label("value")]
        if metric == "messages"
        else [func.sum(daily.joins).label("joins"), func.sum(daily.leaves).label("leaves")]
    )
    return (
        select(key, *values)
        .where(daily.chat_id == chat_id, daily.day.between(period.start, period.end))
        .group_by(key)
    )


def hourly_statement(chat_id: int, period: Period, metric: SeriesMetric) -> Statement:
    """Rows ``(bucket, value)`` (``bucket, joins, leaves`` for members) per local hour with
    rows, ``bucket`` being the instant the hour began."""
    start, end = period.utc_start, period.utc_end
    if metric == "members":
        events = MEMBER_EVENTS.c
        key = local_hour(events.occurred_at, period.timezone).label("bucket")
        joins = func.count().filter(events.change == "join").label("joins")
        leaves = func.count().filter(events.change == "leave").label("leaves")
        return (
            select(key, joins, leaves)
            .where(events.chat_id == chat_id, events.occurred_at >= start)
            .where(events.occurred_at < end)
            .group_by(key)
        )
    if period.whole_hour_offsets():
        hourly = CHAT_HOURLY.c
        return select(hourly.hour.label("bucket"), hourly.messages.label("value")).where(
            hourly.chat_id == chat_id, hourly.hour >= start, hourly.hour < end
        )
    raw = MESSAGES.c
    key = local_hour(raw.sent_at, period.timezone).label("bucket")
    return (
        select(key, func.count().label("value"))
        .where(raw.chat_id == chat_id, raw.sent_at >= start, raw.sent_at < end)
        .group_by(key)
    )


def _point(start: datetime, row: Row | None, metric: SeriesMetric, days: int) -> SeriesPoint:
    if metric == "members":
        joins, leaves = (int(row["joins"]), int(row["leaves"])) if row else (0, 0)
        return SeriesPoint(start=start, value=joins - leaves, joins=joins, leaves=leaves)
    value = int(row["value"]) if row else 0
    if metric == "dau":
        return SeriesPoint(start=start, value=round(value / days, 2))
    return SeriesPoint(start=start, value=value)


def _day_buckets(period: Period, weekly: bool) -> list[tuple[date, date, int]]:
    """(key, first day in the period, days in the period) of each bucket."""
    if not weekly:
        return [(day, day, 1) for day in period.each_day()]
    buckets = []
    monday = week_start(period.start)
    while monday <= period.end:
        first = max(monday, period.start)
        last = min(monday + timedelta(days=6), period.end)
        buckets.append((monday, first, (last - first).days + 1))
        monday += timedelta(days=7)
    return buckets


def _hour_starts(period: Period, keys: Iterable[datetime]) -> list[datetime]:
    return sorted({*period.each_hour(), *keys})


async def timeseries(
    db: Database, *, chat_id: int, period: Period, metric: SeriesMetric, bucket: Bucket
) -> Timeseries:
    """Every ``bucket`` of ``period`` for ``metric`` in chat ``chat_id``, empty ones as 0.

    Raises StatsRequestError for DAU by hour, or hourly buckets over more than MAX_HOURLY_DAYS.
    """
    if bucket == "hour":
        points = await _hourly(db, chat_id, period, metric)
    else:
        rows = await fetch_all(
            db, daily_statement(chat_id, period, metric, weekly=bucket == "week")
        )
        found = {row["bucket"]: row for row in rows}
        points = [
            _point(period.midnight(first).astimezone(period.tz), found.get(key), metric, days)
            for key, first, days in _day_buckets(period, bucket == "week")
        ]
    return Timeseries(
        chat_id=chat_id,
        timezone=period.timezone,
        metric=metric,
        bucket=bucket,
        start=period.start,
        end=period.end,
        points=points,
    )


async def _hourly(
    db: Database, chat_id: int, period: Period, metric: SeriesMetric
) -> list[SeriesPoint]:
    if metric == "dau":
        raise StatsRequestError("DAU is a daily measure: ask for bucket=day or bucket=week.")
    if period.days > MAX_HOURLY_DAYS:
        raise StatsRequestError(f"hourly buckets cover at most {MAX_HOURLY_DAYS} days.")
    rows = await fetch_all(db, hourly_statement(chat_id, period, metric))
    found = {row["bucket"]: row for row in rows}
    return [
        _point(start.astimezone(period.tz), found.get(start), metric, 1)
        for start in _hour_starts(period, found)
    ]
