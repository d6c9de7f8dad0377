"""Report periods: what /stats, /top, /heatmap and /activity read after the command (issue 15).

A period is read on the chat's own calendar (``today`` is the chat's local today) into the
days ``first`` to ``last``, both inclusive:

- nothing: the last :data:`DEFAULT_DAYS` days, today included;
- ``N`` (the whole argument), ``Nd``/``Nд``, "14 days", "last 14 days", "за последние 14
  дней": the last N days, today included;
- ``Nw``/``Nн``, "2 weeks", "за 2 недели": the last 7·N days;
- ``Nm``/``Nм``, "3 months", "за последние 3 месяца": the last N months, rolling, from the
  day after the same day N months before (``1m`` on 10 Dec is 11 Nov to 10 Dec);
  ``Ny``, "1 year": likewise over 12·N months. (Written as ``m``, a month: a report is made
  of days, so minutes are no reading.)
- ``2025-11`` (a month), ``2025-11-01..2025-11-30``, ``2025-10..2025-11`` (a range of days
  or months; "to"/"по" join them too); a month named alone ("November", "ноябрь"): the most
  recent such month not after today;
- whatever the question reader understands (:func:`tally.language.dates.take_span`):
  "yesterday", "last week", "this month", "в октябре", "за прошлую неделю", "с 1 по 15
  ноября", "since 20 November" (that day to today).

A period running past today ends today (the reply names its days). A period that starts
after today, ends before it starts, is longer than ``MAX_REPORT_DAYS`` or has no start
("until 15 November"), two periods at once, and any word left unread are refused with a
:class:`ReportPeriodError` naming what was wrong, never clipped or guessed.
"""

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, get_args

from tally.contracts.chat_reports import (
    DEFAULT_TOP,
    MAX_REPORT_DAYS,
    MAX_TOP,
    ReportKind,
    TopMeasure,
)
from tally.contracts.events import Language
from tally.language.dates import DaySpan, take_span
from tally.language.report_texts import ReportPeriodError, refused
from tally.language.scan import Scan, Unclear

__all__ = [
    "DEFAULT_DAYS",
    "DEFAULT_TOP",
    "MAX_TOP",
    "ReportArguments",
    "ReportPeriod",
    "ReportPeriodError",
    "TopMeasure",
    "describe_period",
    "read_period",
    "read_report_arguments",
]

DEFAULT_DAYS: Final = 7
"""Days of a report whose command names no period (today included)."""
_MEASURES: Final[tuple[TopMeasure, ...]] = get_args(TopMeasure)


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    """Local calendar days ``first`` to ``last``, both inclusive, in the chat's time zone.
    Raises ValueError when ``last`` is before ``first``."""

    first: date
    last: date

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"a period ends ({self.last}) before it starts ({self.first})")

    @property
    def days(self) -> int:
        """Days in the period (>= 1)."""
        return (self.last - self.first).days + 1


@dataclass(frozen=True, slots=True)
class ReportArguments:
    """A report command's arguments: its period; for /top, ``limit`` members (None for the
    other reports) ranked ``by`` a measure."""

    period: ReportPeriod
    limit: int | None = None
    by: TopMeasure = "messages"


def _pattern(regex: str) -> re.Pattern[str]:
    return re.compile(regex, re.IGNORECASE)


_BARE_DAYS: Final = re.compile(r"\d+")
_SHORT: Final = _pattern(r"\b(?P<n>\d+)(?:\s*(?P<unit>[dwmy])|(?P<unit_ru>[днм]))\b")
_ISO: Final = r"(?<!\d)(?<!\d\.)\d{4}-\d{1,2}(?:-\d{1,2})?(?!\d|[.-]\d)"
"""An ISO month or day, not a part of a longer number or of "1.11.2025-15.11.2025"."""
_ISO_RANGE: Final = _pattern(
    rf"\b(?:(?:from|с|со|от)\s+)?(?P<a>{_ISO})"
    rf"(?:\s*\.\.\s*|\s+(?:to|till|until|through|по|до|-)\s+)(?P<b>{_ISO})"
)
_ISO_MONTH: Final = _pattern(r"(?<!\d)(?<!\d\.)(?P<a>\d{4}-\d{1,2})(?!\d|[.-]\d)")
_ROLLING: Final = _pattern(
    r"\b(?:(?:in|over|for|during)\s+)?(?:the\s+)?(?:(?:last|past)\s+)?"
    r"(?:(?P<n>\d+)\s+(?P<unit>days?|weeks?|months?)|(?P<years>\d{1,2})\s+(?P<year>years?))"
    r"\b(?!\s+ago\b)"
    r"|\b(?:за\s+)?(?:последни[ейх]\s+)?"
    r"(?:(?P<n_ru>\d+)\s+(?P<unit_ru>дн(?:ей|я)|день|недел[иьюя]|недель|месяц(?:а|ев)?)"
    r"|(?P<years_ru>\d{1,2})\s+(?P<year_ru>год(?:а)?|лет))\b(?!\s+назад\b)"
)
"""Rolling spans in words ("last 14 days", "за 2 недели"), not "3 days ago" (one day); years
by one or two digits only ("за 2024 год" is a calendar year, read by the question reader)."""
_UNIT_MONTHS: Final = {"m": 1, "м": 1, "y": 12}
_UNIT_DAYS: Final = {"d": 1, "д": 1, "w": 7, "н": 7}
_FILLERS: Final = frozenset(
    ("for", "in", "during", "over", "the", "of", "period", "за", "в", "во", "на", "период")
)
"""Words that never change a period ("for last week", "за октябрь")."""
_WORD: Final = re.compile(r"[^\W_]+")
_LEFT: Final = re.compile(r"[^\W_]+|\.{2,}|[-+<>=/]")
"""What may not be left unread: words, and signs that would change a period ("2025-11-01..")."""
_ONE_WORD: Final = re.compile(r"\s*[^\W\d_]+\s*")


def _unit(word: str) -> str:
    """The one-letter unit of a unit word: "weeks" -> "w", "месяца" -> "м", "лет" -> "y"."""
    lower = word.lower()
    return "y" if lower.startswith(("г", "л")) else lower[0]


def _months_before(today: date, months: int) -> date:
    """The same day ``months`` months before ``today`` (the month's last day when shorter)."""
    index = today.year * 12 + today.month - 1 - months
    year, month = divmod(index, 12)
    day = min(today.day, _month_end(date(year, month + 1, 1)).day)
    return date(year, month + 1, day)


def _month_end(day: date) -> date:
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def _rolling(count: int, unit: str, today: date, language: Language) -> tuple[date, date]:
    """The last ``count`` days/weeks/months/years up to ``today``; ``unit`` is d/w/m/y (or
    д/н/м). Raises ReportPeriodError for 0 or a span far longer than a report covers."""
    if count < 1:
        raise refused("empty", language, max=MAX_REPORT_DAYS)
    if unit in _UNIT_DAYS:
        days = count * _UNIT_DAYS[unit]
        if days > MAX_REPORT_DAYS:
            raise refused("too_long", language, days=days, max=MAX_REPORT_DAYS, today=today)
        return today - timedelta(days=days - 1), today
    try:
        return _months_before(today, count * _UNIT_MONTHS[unit]) + timedelta(days=1), today
    except (ValueError, OverflowError):
        raise refused("too_long_far", language, max=MAX_REPORT_DAYS, today=today) from None


def _iso_first(text: str) -> date:
    """``2025-11`` -> 1 Nov 2025, ``2025-11-05`` -> 5 Nov; raises ValueError if impossible."""
    parts = [int(part) for part in text.split("-")]
    return date(parts[0], parts[1], parts[2] if len(parts) == 3 else 1)


def _iso_last(text: str) -> date:
    """``2025-11`` -> 30 Nov 2025, ``2025-11-05`` -> 5 Nov; raises ValueError if impossible."""
    first = _iso_first(text)
    return first if text.count("-") == 2 else _month_end(first)


def _iso(match: re.Match[str], language: Language) -> tuple[date, date]:
    try:
        return _iso_first(match["a"]), _iso_last(match.groupdict().get("b") or match["a"])
    except ValueError:
        raise refused("date", language, text=match[0].strip()) from None


def _own_spans(scan: Scan, today: date, language: Language) -> list[tuple[date, date]]:
    """The spans the question reader does not know (short forms, ISO months and ranges,
    rolling spans in words), taken from ``scan``."""
    spans = [_iso(match, language) for match in scan.take(_ISO_RANGE)]
    spans += [_iso(match, language) for match in scan.take(_ISO_MONTH)]
    for match in scan.take(_SHORT):
        unit = (match["unit"] or match["unit_ru"]).lower()
        spans.append(_rolling(int(match["n"]), unit, today, language))
    for match in scan.take(_ROLLING):
        words = [match[group] for group in ("unit", "unit_ru", "year", "year_ru")]
        count = next(match[group] for group in ("n", "n_ru", "years", "years_ru") if match[group])
        unit = _unit(next(word for word in words if word))
        spans.append(_rolling(int(count), unit, today, language))
    return spans


def _bare_month(scan: Scan, today: date) -> list[tuple[date, date]]:
    """A month named alone ("November", "ноябрь"): read as "in November" (the most recent
    such month not after today) and taken from ``scan``; nothing for any other text."""
    if not _ONE_WORD.fullmatch(scan.text):
        return []
    month = Scan.of(f"in {scan.text.strip()}")
    try:
        span = take_span(month, today)
    except Unclear:
        return []
    if span is None or month.text.strip():
        return []
    scan.blank(0, len(scan.text))
    return [(span.first, span.last)]


def _reader_span(scan: Scan, text: str, today: date, language: Language) -> list[tuple[date, date]]:
    """The question reader's one date or range in ``scan`` (taken), as days; "since"/"after"
    a day run to today."""
    try:
        span: DaySpan | None = take_span(scan, today)
    except Unclear as error:
        raise refused(error.reason, language, text=text) from None
    if span is None:
        return []
    if span.before:
        raise refused("no_start", language, text=text)
    return [(span.first, today if span.after else span.last)]


def _left_words(scan: Scan) -> list[str]:
    return [word for word in _LEFT.findall(scan.text) if word.lower() not in _FILLERS]


def _checked(first: date, last: date, today: date, language: Language) -> ReportPeriod:
    """The period ``first``..``last`` ended at ``today`` at the latest; refused when reversed,
    not begun or longer than MAX_REPORT_DAYS."""
    if last < first:
        raise refused("reversed", language, first=first, last=last)
    if first > today:
        raise refused("future", language, first=first, last=last, today=today)
    period = ReportPeriod(first, min(last, today))
    if period.days > MAX_REPORT_DAYS:
        raise refused("too_long", language, days=period.days, max=MAX_REPORT_DAYS, today=today)
    return period


def read_period(text: str, *, today: date, language: Language = "en") -> ReportPeriod:
    """The period ``text`` names (forms in the module docstring), ``today`` being the chat's
    local today; the last :data:`DEFAULT_DAYS` days when ``text`` is blank.

    Raises :class:`ReportPeriodError` (its ``message`` in ``language``, ``texts`` in both)
    for a word left unread, two periods, an impossible date, a period with no start, one
    ending before it starts, one starting after today and one longer than MAX_REPORT_DAYS.
    """
    scan = Scan.of(text.strip())
    if not scan.text:
        return _checked(today - timedelta(days=DEFAULT_DAYS - 1), today, today, language)
    if _BARE_DAYS.fullmatch(scan.text):
        return _checked(*_rolling(int(scan.text), "d", today, language), today, language)
    spans = _own_spans(scan, today, language)
    spans += _reader_span(scan, text.strip(), today, language) or _bare_month(scan, today)
    left = _left_words(scan)
    if left or not spans:
        raise refused("unread", language, words=left or _WORD.findall(text))
    if len(spans) > 1:
        raise refused("dates", language)
    return _checked(*spans[0], today, language)


_MEASURE: Final = _pattern(
    r"(?:\b(?:by|по)\s+)?\b(?:(?P<messages>messages?|сообщени(?:ям|ю|я|й))"
    r"|(?P<words>words?|словам|слову|слов)|(?P<reactions>reactions?|реакци(?:ям|и|й))"
    r"|(?P<replies>repl(?:y|ies)|ответ(?:ам|у|ов|ы)?))\b"
)
_OTHER_MEASURE: Final = _pattern(r"\bby\s+(?P<en>[^\W\d_]+)|\bпо\s+(?P<ru>[^\W\d_]+[ая]м)\b")
"""A word after "by", or a plural dative after "по" ("по лайкам"), that is not a measure."""
_LEADING_NUMBER: Final = re.compile(r"(?P<n>\d{1,9})(?:\s+(?P<rest>.*))?")


def _take_measure(scan: Scan, kind: ReportKind, language: Language) -> TopMeasure | None:
    """The measure named in ``scan`` (taken): None when none is; refused for two, an unknown
    one, or any for a report other than /top."""
    found = [measure for match in scan.take(_MEASURE) for measure in _MEASURES if match[measure]]
    if found and kind != "top":
        raise refused("not_top", language, kind=kind)
    other = _OTHER_MEASURE.search(scan.text) if kind == "top" else None
    if other:
        raise refused("measure", language, words=[other["en"] or other["ru"]])
    if len(found) > 1:
        raise refused("measures", language)
    return found[0] if found else None


def _limit(text: str, language: Language) -> int:
    if not 1 <= int(text) <= MAX_TOP:
        raise refused("limit", language, max=MAX_TOP)
    return int(text)


def _top(text: str, today: date, language: Language) -> tuple[int, ReportPeriod]:
    """/top's size and period: a leading number is the size unless the whole text reads as
    a period ("/top 28 November 2025" is that day's top, "/top 10" a top 10)."""
    lead = _LEADING_NUMBER.fullmatch(text)
    if lead and not lead["rest"]:
        return _limit(lead["n"], language), read_period("", today=today, language=language)
    try:
        return DEFAULT_TOP, read_period(text, today=today, language=language)
    except ReportPeriodError:
        if not lead:
            raise
    return _limit(lead["n"], language), read_period(lead["rest"], today=today, language=language)


def read_report_arguments(
    kind: ReportKind, args: str | None, *, today: date, language: Language = "en"
) -> ReportArguments:
    """The arguments of ``/<kind> <args>``: for /top an optional size (1..MAX_TOP, default
    DEFAULT_TOP) and measure ("by reactions", "по словам"; default messages), then the
    period (:func:`read_period`); the other reports take only a period.

    ``/top 5 by reactions 2025-11``, ``/top by words last week``, ``/stats 30``,
    ``/stats в октябре``. Raises :class:`ReportPeriodError` naming the word it could not
    read, a measure given to another report or an unknown one, and a size out of range.
    """
    scan = Scan.of((args or "").strip())
    by = _take_measure(scan, kind, language)
    text = " ".join(scan.text.split())
    if kind != "top":
        return ReportArguments(period=read_period(text, today=today, language=language))
    limit, period = _top(text, today, language)
    return ReportArguments(period=period, limit=limit, by=by or "messages")


# The month names of tally.language.describe (private there, and that module is being split):
# one public date phrasing for both is for whoever finishes the split.
# fmt: off
_EN_MONTHS: Final = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)
_RU_GENITIVE: Final = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)
# fmt: on


def _day(day: date, language: Language, *, year: bool = True) -> str:
    month = (_EN_MONTHS if language == "en" else _RU_GENITIVE)[day.month - 1]
    return f"{day.day} {month} {day.year}" if year else f"{day.day} {month}"


def describe_period(period: ReportPeriod, language: Language, timezone: str) -> str:
    """The period's days and the chat's zone: "1–30 Nov 2025 (Europe/Berlin)", "28 ноября
    2025 (UTC)", "25 Nov – 5 Dec 2025 (UTC)", "25 Dec 2024 – 5 Jan 2025 (UTC)"."""
    first, last = period.first, period.last
    if first == last:
        days = _day(last, language)
    elif (first.year, first.month) == (last.year, last.month):
        days = f"{first.day}–{_day(last, language)}"
    else:
        days = f"{_day(first, language, year=first.year != last.year)} – {_day(last, language)}"
    return f"{days} ({timezone})"
