"""Constructs that combine with every question: ranges, "with likes", counters compared with
each other, an excluded creator, weekdays and hours of the day, percentiles and medians, the
share of a set, and counts of distinct days, weeks or months.

Each ``take_*`` function takes its phrase from the :class:`Scan` (so the words are accounted
for) and returns what it read, or None / an empty tuple when the question has no such phrase.
The text is canonical (:mod:`lexicon`): Russian counters and entities already read "likes",
"videos", "creator", so the patterns name those plus the Russian function words.
"""

import re
from dataclasses import dataclass
from typing import Final

from tally.language import vocabulary as words
from tally.language.numbers import NUMBER, read_number
from tally.language.scan import Scan, Unclear
from tally.semantic.plan import Comparison, Op, Period

_C: Final = "|".join(words.COUNTER_WORDS.values())
"""Any counter word (without named groups)."""


def _pattern(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(alternatives), re.IGNORECASE)


def counter_column(word: str) -> str:
    """``"likes"`` (or any synonym) -> ``"likes_count"``."""
    match = words.COUNTER.fullmatch(word)
    if match is None:
        raise Unclear("counter")
    return words.counter_of(match)


@dataclass(frozen=True, slots=True)
class Bound:
    """``counter op value`` on a video's counter (a filter of the plan)."""

    counter: str
    op: Op
    value: int


# Two counters compared: "more comments than likes", "комментариев больше, чем лайков".
_MORE: Final = r"more|greater|higher|bigger|больше|более"
_FEWER: Final = r"fewer|less|lower|smaller|меньше|менее"
_NUMBER_OF: Final = r"(?:(?:the\s+)?(?:number|count)\s+of\s+|count\s+)?"
_COMPARED: Final = _pattern(
    rf"\b(?:(?P<more>{_MORE})|(?P<fewer>{_FEWER}))\s+{_NUMBER_OF}(?P<a>{_C})\s*,?\s+"
    rf"(?:than|чем)\s+(?:у\s+)?(?:the\s+)?(?:their\s+|its\s+)?{_NUMBER_OF}(?P<b>{_C})\b",
    rf"\b{_NUMBER_OF}(?P<a2>{_C})\s+(?:count\s+)?(?:is\s+|are\s+|was\s+|were\s+)?"
    rf"(?:(?P<more2>{_MORE}|exceed\w*|outnumber\w*)|(?P<fewer2>{_FEWER}))\s*,?\s*"
    rf"(?:(?:than|чем)\s+)?(?:у\s+)?(?:the\s+)?{_NUMBER_OF}(?P<b2>{_C})\b",
)


def take_counter_comparisons(scan: Scan) -> tuple[Comparison, ...]:
    """Comparisons of two counters of the same video ("more comments than likes")."""
    found = []
    for match in scan.take(_COMPARED):
        a, b = match["a"] or match["a2"], match["b"] or match["b2"]
        more = match["more"] or match["more2"]
        column, other = counter_column(a), counter_column(b)
        if column == other:
            raise Unclear("counter")
        found.append(Comparison(column=column, op=Op.GT if more else Op.LT, other=other))
    return tuple(found)


def _numbered(name: str) -> str:
    return NUMBER.replace("(?P<number>", f"(?P<{name}>").replace("(?P<multiplier>", f"(?P<{name}x>")


_LOW, _HIGH = _numbered("low"), _numbered("high")
_AND: Final = r"\s*(?:and|to|-|–|и|до)\s*"
_RANGES: Final = (
    _pattern(rf"\b(?:from|between|от|между)\s+{_LOW}{_AND}{_HIGH}\s+(?P<c>{_C})\b"),
    _pattern(rf"(?<![\w.,]){_LOW}\s*[-–]\s*{_HIGH}\s+(?P<c>{_C})\b"),
    _pattern(
        rf"\b(?P<c>{_C})\s+(?:(?:in\s+the\s+range|в\s+диапазоне)\s+)?(?:of\s+)?"
        rf"(?:from|between|от|между)\s+{_LOW}{_AND}{_HIGH}(?!\s*\d)"
    ),
)


def take_ranges(scan: Scan) -> list[Bound]:
    """Ranges with both ends, both included: "from 200 to 800 likes", "от 200 до 800
    лайков", "between 10 and 50 comments". Raises :class:`Unclear` ("number") when the
    range ends before it starts."""
    bounds = []
    for match in (m for pattern in _RANGES for m in scan.take(pattern)):
        counter = counter_column(match["c"])
        low, high = (
            read_number(match["low"], match["lowx"]),
            read_number(match["high"], match["highx"]),
        )
        if low > high:
            raise Unclear("number")
        bounds += [Bound(counter, Op.GE, low), Bound(counter, Op.LE, high)]
    return bounds


_SOME: Final = _pattern(
    rf"\b(?:with|having|that\s+ha(?:ve|s)|which\s+ha(?:ve|s)|ha(?:ve|s)|получивших|имеющи[хе]"
    rf"|где\s+есть|у\s+которых\s+есть|есть|с|со) (?:any |some )?(?P<c>{_C})"
    rf"(?:\s*(?:,|and|и)\s+(?P<c2>{_C}))?\b(?!\s*(?:count|number|>|<|=|\d))",
)
_AT_LEAST_ONE: Final = _pattern(
    rf"\b(?:at\s+least|хотя\s+бы|как\s+минимум|минимум)\s+(?:one|a\s+single|a|один|одн\w+)"
    rf"\s+(?P<c>{_C})\b",
)


def take_some(scan: Scan) -> list[Bound]:
    """ "with likes", "having comments", "с лайками": more than 0; "at least one like",
    "хотя бы один лайк": at least 1. Read after every numeric comparison, so "with more
    than 100 likes" is never taken for "with likes"; the words must be next to each other as
    written (one space), so a phrase taken in between ("has [the most] likes") never joins
    them."""
    bounds = [Bound(counter_column(m["c"]), Op.GE, 1) for m in scan.take(_AT_LEAST_ONE)]
    for match in scan.take(_SOME):
        bounds += [Bound(counter_column(c), Op.GT, 0) for c in (match["c"], match["c2"]) if c]
    return bounds


_EXCLUDE: Final = _pattern(
    r"\b(?:except(?:\s+for)?|excluding|apart\s+from|other\s+than|besides|aside\s+from"
    r"|not\s+(?:by|from)|but\s+not|кроме|помимо|за\s+исключением|не\s+считая|исключая"
    r"|без\s+уч[её]та)\s+(?:the\s+)?(?:(?:videos?|ones?)\s+(?:of|by|from)\s+|videos\s+)?"
    r"(?:creator|author|blogger)s?(?:\s+(?:with|under|с|под))?"
    r"(?:\s+(?:the\s+)?(?P<marker>id|ид|айди|идентификатор\w*|identifier))?"
    r"\s*[:=#№]?\s*(?P<id>[a-z0-9][a-z0-9_-]{1,63})\b",
)


def take_excluded_creator(scan: Scan) -> str | None:
    """The creator the question leaves out ("except creator X", "помимо креатора X"); read
    before the creator a question is about. An id needs a digit or the word "id"."""
    for match in _EXCLUDE.finditer(scan.text):
        if match["marker"] or any(char.isdigit() for char in match["id"]):
            scan.blank(*match.span())
            return match["id"]
    return None


_DAY_WORDS: Final = (
    (1, r"mondays?|понедельник\w*"),
    (2, r"tuesdays?|вторник\w*"),
    (3, r"wednesdays?|сред[аыуе]|средам|средах"),
    (4, r"thursdays?|четверг\w*"),
    (5, r"fridays?|пятниц\w*"),
    (6, r"saturdays?|суббот\w*"),
    (7, r"sundays?|воскресень\w*"),
    (
        0,
        r"weekdays?|working\s+days|business\s+days|будни|будням|будние\s+дни|будним\s+дням"
        r"|рабочие\s+дни|рабочим\s+дням",
    ),
    (-1, r"weekends?|выходные(?:\s+дни)?|выходным(?:\s+дням)?|выходных(?:\s+днях)?"),
)
_DAY: Final = "|".join(f"(?P<d{index}>{regex})" for index, (_, regex) in enumerate(_DAY_WORDS))
_DAYS: Final = _pattern(
    rf"\b(?:(?:on|during|at|over|in|по|в|во|на)\s+)?(?:the\s+)?(?:{_DAY})"
    rf"(?:\s*(?:,|and|or|&|и|или)\s*(?:{_DAY.replace('?P<d', '?P<e')}))?\b"
)
_HOUR_OF_DAY: Final = _pattern(
    r"\b(?:(?P<before>before|earlier\s+than|prior\s+to|до|раньше)"
    r"|(?P<after>after|later\s+than|после|позже))\s+(?P<h>\d{1,2})(?::(?P<m>\d{2})|\s*(?:am\b"
    r"|a\.m\.|o'?clock\b|h\b|час\w*|утра\b))",
)
_PARTS: Final = (
    (r"in\s+the\s+morning|утром|по\s+утрам", (6, 12)),
    (r"in\s+the\s+afternoon", (12, 18)),
    (r"in\s+the\s+evening|вечером|по\s+вечерам", (18, 24)),
    (r"at\s+night|ночью|по\s+ночам", (0, 6)),
)


@dataclass(frozen=True, slots=True)
class CalendarWords:
    """Weekdays (ISO, empty: any) and a ``[start, end)`` hour-of-day range (None: any)."""

    weekdays: tuple[int, ...] = ()
    hours: tuple[int, int] | None = None


def _day_set(match: re.Match[str]) -> set[int]:
    days: set[int] = set()
    for name, text in match.groupdict().items():
        if text is None:
            continue
        number = _DAY_WORDS[int(name[1:])][0]
        days |= {1, 2, 3, 4, 5} if number == 0 else {6, 7} if number == -1 else {number}
    return days


def _hours(scan: Scan) -> tuple[int, int] | None:
    found: list[tuple[int, int]] = []
    for match in scan.take(_HOUR_OF_DAY):
        hour = int(match["h"])
        if (match["m"] and int(match["m"]) != 0) or not 0 < hour < 24:
            raise Unclear("hours")
        found.append((0, hour) if match["before"] else (hour, 24))
    for pattern, hours in _PARTS:
        if scan.take(re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE)):
            found.append(hours)
    if len(found) > 1:
        raise Unclear("hours")
    return found[0] if found else None


def take_calendar(scan: Scan) -> CalendarWords | None:
    """Weekdays ("on Fridays", "по субботам", "on weekdays", "в выходные") and hours of the
    day ("before 09:00", "после 18:00", "in the evening" = 18:00-24:00). Raises
    :class:`Unclear` ("hours") for a time not on the hour or two hour ranges, ("unknown")
    for a set of days that is every day."""
    days: set[int] = set()
    for match in scan.take(_DAYS):
        days |= _day_set(match)
    if len(days) == 7:
        raise Unclear("unknown")
    hours = _hours(scan)
    if not days and hours is None:
        return None
    return CalendarWords(tuple(sorted(days)), hours)


_PERCENTILE: Final = _pattern(
    r"\b(?P<n>\d{1,2})(?:st|nd|rd|th|-?(?:й|ый|ой|ий|го|м))?\s+(?:percentile|процентил\w*"
    r"|перцентил\w*)|\bp(?P<p>\d{1,2})\b"
)


def take_percentile(scan: Scan) -> float | None:
    """ "the 90th percentile", "p90", "90-й процентиль" -> 0.9; None when not asked."""
    matches = scan.take(_PERCENTILE)
    if not matches:
        return None
    if len(matches) > 1:
        raise Unclear("unknown")
    percent = int(matches[0]["n"] or matches[0]["p"])
    if not 0 < percent < 100:
        raise Unclear("number")
    return percent / 100


_SHARE: Final = _pattern(
    r"\b(?:what|which)\s+(?:share|percentage|percent|proportion|fraction|part)(?:\s+of)?\b"
    r"|\b(?:the\s+)?(?:share|percentage|proportion|fraction)\s+of\b"
    r"|\bhow\s+many\s+percent(?:\s+of)?\b|\bwhat\s+%\s+of\b"
    r"|\b(?:какая|какой|каков\w*)\s+(?:доля|процент|часть)\b|\bдоля\b|\bсколько\s+процентов\b"
    r"|\bкакой\s+процент\b|\bв\s+процентах\b"
)


def take_share(scan: Scan) -> bool:
    """Whether the question asks for a share ("what share of videos", "какая доля видео")."""
    return bool(scan.take(_SHARE))


_PERIOD: Final = _pattern(
    r"\b(?:(?:on|in|during|over)\s+)?how\s+many\s+(?:different|distinct|unique|separate)\s+"
    r"(?:(?P<day>days?)|(?P<week>weeks?)|(?P<month>months?))\b",
    r"\b(?:в\s+|за\s+)?скольк\w+\s+(?:разных|различных|отдельных)\s+"
    r"(?:(?P<day2>дн\w+|день)|(?P<week2>недел\w+)|(?P<month2>месяц\w*))\b",
)


def take_period(scan: Scan) -> Period | None:
    """ "on how many different days / weeks / months" (ISO weeks, UTC), "в скольких разных
    днях"; None when not asked."""
    matches = scan.take(_PERIOD)
    if not matches:
        return None
    if len(matches) > 1:
        raise Unclear("unknown")
    groups = matches[0].groupdict()
    for period in ("day", "week", "month"):
        if groups.get(period) or groups.get(f"{period}2"):
            return period
    return None
