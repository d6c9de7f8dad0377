"""Messages by local weekday and local hour (7 x 24).

From ``chat_hourly`` (UTC hours) when every offset of the chat's zone in the period is a
whole number of hours, so each UTC hour is one local hour; from ``messages`` otherwise. On
the night the clocks go back, both 02:00 hours count in the 02:00 cell; on the night they go
forward, the skipped hour has nothing.
"""

from datetime import datetime

from sqlalchemy import ColumnElement, Integer, cast, func, select

from tally.chatstore.read.connection import Database, Statement, fetch_all
from tally.chatstore.read.models import Heatmap
from tally.chatstore.read.periods import Period
from tally.chatstore.tables import CHAT_HOURLY, MESSAGES

WEEKDAYS = 7
HOURS = 24


def _cells(
    moment: ColumnElement[datetime], tz: str
) -> tuple[ColumnElement[int], ColumnElement[int]]:
    local = func.timezone(tz, moment)
    weekday = cast(func.extract("isodow", local), Integer) - 1
    hour = cast(func.extract("hour", local), Integer)
    return weekday.label("local_weekday"), hour.label("local_hour")


def heatmap_statement(chat_id: int, period: Period) -> Statement:
    """Rows ``(local_weekday, local_hour, messages)`` (weekday 0 = Monday) of the cells
    that have messages."""
    start, end = period.utc_start, period.utc_end
    if period.whole_hour_offsets():
        hourly = CHAT_HOURLY.c
        weekday, hour = _cells(hourly.hour, period.timezone)
        return (
            select(weekday, hour, func.sum(hourly.messages).label("messages"))
            .where(hourly.chat_id == chat_id, hourly.hour >= start, hourly.hour < end)
            .group_by(weekday, hour)
        )
    raw = MESSAGES.c
    weekday, hour = _cells(raw.sent_at, period.timezone)
    return (
        select(weekday, hour, func.count().label("messages"))
        .where(raw.chat_id == chat_id, raw.sent_at >= start, raw.sent_at < end)
        .group_by(weekday, hour)
    )


async def heatmap(db: Database, *, chat_id: int, period: Period) -> Heatmap:
    """The 7 x 24 messages of ``period`` in chat ``chat_id``, by local weekday and hour."""
    cells = [[0] * HOURS for _ in range(WEEKDAYS)]
    for row in await fetch_all(db, heatmap_statement(chat_id, period)):
        cells[row["local_weekday"]][row["local_hour"]] = int(row["messages"])
    return Heatmap(
        chat_id=chat_id,
        timezone=period.timezone,
        start=period.start,
        end=period.end,
        cells=cells,
        total=sum(map(sum, cells)),
    )
