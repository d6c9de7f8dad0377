"""Hour windows within a day, as people write them: ``from 10:00 to 15:00``, ``с 10:00 до
15:00``, ``10:00-15:00``, ``between 10 and 15 hours``, ``с 10 до 15 часов``.

Read before dates, so "с 10:00" is never taken for the first day of a range. A window is
half-open ``[start, end)`` in UTC, like every time range of a plan: "from 10:00 to 15:00"
takes the snapshots of 10:00 up to 14:59. ``24:00`` ends a window at the next midnight.
"""

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

from tally.language.scan import Scan, Unclear

_CLOCK: Final = r"(?P<{0}>\d{{1,2}}):(?P<{0}m>\d{{2}})"
_OPEN: Final = r"(?:(?:from|between|с|со|между|от)\s+)?"
_TO: Final = r"\s*(?:-|–|to|till|until|and|до|по|и)\s*"
_ZONE: Final = r"(?:\s*(?:utc|gmt|по\s+utc))?"
_WINDOWS: Final = (
    re.compile(
        rf"\b{_OPEN}{_CLOCK.format('start')}{_TO}{_CLOCK.format('end')}{_ZONE}", re.IGNORECASE
    ),
    re.compile(
        rf"\b{_OPEN}(?P<start>\d{{1,2}}){_TO}(?P<end>\d{{1,2}})\s*"
        r"(?:h\b|hours?\b|o'?clock\b|час\w*|ч\b)" + _ZONE,
        re.IGNORECASE,
    ),
)


@dataclass(frozen=True, slots=True)
class HourWindow:
    """``[start, end)`` after midnight of a day: offsets from 00:00 UTC (``end`` ≤ 24 h)."""

    start: timedelta
    end: timedelta


def _offset(match: re.Match[str], name: str) -> timedelta:
    hours, minutes = int(match[name]), int(match.groupdict().get(f"{name}m") or 0)
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise Unclear("hours")
    return timedelta(hours=hours, minutes=minutes)


def take_hours(scan: Scan) -> HourWindow | None:
    """The hour window of the question (taken from ``scan``), or None when there is none.

    Raises :class:`Unclear` ("hours") for an impossible time, a window that ends before it
    starts, or more than one window.
    """
    matches = [match for pattern in _WINDOWS for match in scan.take(pattern)]
    if not matches:
        return None
    if len(matches) > 1:
        raise Unclear("hours")
    window = HourWindow(_offset(matches[0], "start"), _offset(matches[0], "end"))
    if window.start >= window.end:
        raise Unclear("hours")
    return window
