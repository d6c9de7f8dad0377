"""Periods of local calendar days in a chat's time zone, and their UTC bounds.

A period is ``[start, end]``, both local dates, inclusive. Its UTC bounds are the instants of
local midnight at ``start`` and at the day after ``end`` (zoneinfo's rules, so a period that
spans a DST change is 23 or 25 hours longer or shorter than ``days * 24``). A local midnight
that does not exist (a zone that springs forward at 00:00) resolves to the instant the clocks
jump, which is where that day begins.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from tally.chatstore.read.errors import StatsRequestError

MAX_PERIOD_DAYS = 3660
"""The longest period any statistic covers (ten years and change)."""


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def is_timezone(name: str) -> bool:
    """True when ``name`` is an IANA time zone name (``Europe/Berlin``, ``UTC``)."""
    return name in _zone_names()


def zone(name: str) -> ZoneInfo:
    """The zone named ``name``; raises StatsRequestError when it is not an IANA name."""
    if not is_timezone(name):
        raise StatsRequestError(f"{name!r} is not an IANA time zone name (e.g. Europe/Berlin).")
    return ZoneInfo(name)


def week_start(day: date) -> date:
    """The Monday of ``day``'s ISO week."""
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True, slots=True)
class Period:
    """Local days ``start``..``end`` (inclusive) in ``tz``."""

    start: date
    end: date
    tz: ZoneInfo

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise StatsRequestError(
                f"the period ends ({self.end}) before it starts ({self.start})."
            )
        if self.days > MAX_PERIOD_DAYS:
            raise StatsRequestError(f"a period may cover at most {MAX_PERIOD_DAYS} days.")

    @classmethod
    def last_days(cls, days: int, *, tz: ZoneInfo, now: datetime) -> "Period":
        """The ``days`` local days ending with today (``now`` in ``tz``)."""
        today = now.astimezone(tz).date()
        return cls(today - timedelta(days=days - 1), today, tz)

    @property
    def timezone(self) -> str:
        return self.tz.key

    @property
    def days(self) -> int:
        """Number of local days in the period (>= 1)."""
        return (self.end - self.start).days + 1

    def midnight(self, day: date) -> datetime:
        """The instant (UTC) local ``day`` begins."""
        return datetime.combine(day, time(0), tzinfo=self.tz).astimezone(UTC)

    @property
    def utc_start(self) -> datetime:
        return self.midnight(self.start)

    @property
    def utc_end(self) -> datetime:
        """The first instant after the period (exclusive bound)."""
        return self.midnight(self.end + timedelta(days=1))

    def previous(self) -> "Period":
        """The period of equal length that ends the day before this one starts."""
        shift = timedelta(days=self.days)
        return Period(self.start - shift, self.end - shift, self.tz)

    def trailing(self, days: int) -> "Period":
        """The ``days`` local days ending with this period's last day."""
        return Period(self.end - timedelta(days=days - 1), self.end, self.tz)

    def each_day(self) -> list[date]:
        """Every local day of the period, in order."""
        return [self.start + timedelta(days=n) for n in range(self.days)]

    def each_hour(self) -> list[datetime]:
        """The start of every hour of the period (UTC instants, in order): 23, 24 or 25 a
        day across DST changes."""
        hours = int((self.utc_end - self.utc_start).total_seconds()) // 3600
        return [self.utc_start + timedelta(hours=n) for n in range(hours)]

    def whole_hour_offsets(self) -> bool:
        """True when every UTC offset of ``tz`` within the period is a whole number of hours
        (so each UTC hour is exactly one local hour, and hourly rollups answer)."""
        instants = [*map(self.midnight, self.each_day()), self.utc_end]
        offsets = {instant.astimezone(self.tz).utcoffset() for instant in instants}
        return all(offset is not None and offset.total_seconds() % 3600 == 0 for offset in offsets)
