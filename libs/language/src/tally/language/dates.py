"""Dates and date ranges as people write them, read into calendar days (UTC).

Understood: ``November 28, 2025``, ``28 ноября 2025``, ``28.11.2025``, ``2025-11-28``,
``November 1-5, 2025``, ``с 1 по 5 ноября 2025``, ``from <date> to <date>``,
``in November 2025``, ``в октябре`` (the most recent such month not after ``today``),
``in 2025``, ``yesterday``/``вчера``, ``last month``, ``last week``/``на прошлой неделе`` (ISO
weeks, Monday to Sunday), ``this week`` (Monday to today), ``3 days ago``/``3 дня назад``,
``за последние 7 дней``.
A range names its first and last day, both inclusive.
"""

import re
from calendar import monthrange
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Final

from tally.language.scan import Scan, Unclear

_MONTHS: Final = {
    **dict.fromkeys(("jan", "янв"), 1),
    **dict.fromkeys(("feb", "фев"), 2),
    **dict.fromkeys(("mar", "мар"), 3),
    **dict.fromkeys(("apr", "апр"), 4),
    **dict.fromkeys(("may", "май", "мая", "мае"), 5),
    **dict.fromkeys(("jun", "июн"), 6),
    **dict.fromkeys(("jul", "июл"), 7),
    **dict.fromkeys(("aug", "авг"), 8),
    **dict.fromkeys(("sep", "сен"), 9),
    **dict.fromkeys(("oct", "окт"), 10),
    **dict.fromkeys(("nov", "ноя"), 11),
    **dict.fromkeys(("dec", "дек"), 12),
}
_MONTH: Final = (
    r"(?P<month>(?:january|february|march|april|may|june|july|august|september|october|november"
    r"|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\b\.?"
    r"|(?:январ[ьяе]|феврал[ьяе]|марта?|марте|апрел[ьяе]|ма[йяе]|июн[ьяе]|июл[ьяе]|августа?"
    r"|августе|сентябр[ьяе]|октябр[ьяе]|ноябр[ьяе]|декабр[ьяе])\b)"
)
_YEAR: Final = r"(?:,?\s*(?P<year>\d{4})\b(?:\s*(?:года|году|год|г\.))?)?"
_DAY: Final = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_LAST: Final = r"(?P<last>\d{1,2})(?:st|nd|rd|th)?"
_TO: Final = r"\s*(?:-|to|through|till|until|по|до)\s*"


def _pattern(regex: str) -> re.Pattern[str]:
    return re.compile(regex, re.IGNORECASE)


_CALENDAR: Final = (
    _pattern(r"\b(?P<year>\d{4})-(?P<mon>\d{1,2})-(?P<day>\d{1,2})\b"),
    _pattern(r"\b(?P<day>\d{1,2})\.(?P<mon>\d{1,2})\.(?P<year>\d{4})\b"),
    _pattern(rf"\bbetween\s+{_MONTH}\s*{_DAY}\s+and\s+{_LAST}\b{_YEAR}"),
    _pattern(rf"\b(?:between|между)\s+{_DAY}\s+(?:and|и)\s+{_LAST}\s+(?:of\s+)?{_MONTH}{_YEAR}"),
    _pattern(rf"\b(?:between\s+|from\s+)?{_MONTH}\s*{_DAY}{_TO}{_LAST}\b{_YEAR}"),
    _pattern(
        rf"\b(?:between\s+|from\s+|между\s+|с\s+|со\s+|от\s+)?{_DAY}{_TO}{_LAST}\s+(?:of\s+)?{_MONTH}{_YEAR}"
    ),
    _pattern(rf"\b{_MONTH}\s*{_DAY}\b{_YEAR}"),
    _pattern(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}{_YEAR}"),
    _pattern(rf"\b{_MONTH}(?:\s+of)?,?\s+(?P<year>\d{{4}})\b(?:\s*(?:года|году|год|г\.))?"),
    _pattern(rf"\b(?:in|during|for|в|во|за)\s+{_MONTH}"),
    _pattern(r"\b(?:in|during|for|в|во|за)\s+(?P<year>\d{4})\b(?:\s*(?:года|году|год|г\.))?"),
)
"""Calendar dates, most specific first (a day before a month, a month before a year)."""

_DAYS_AGO: Final = (
    (_pattern(r"\b(?:the\s+)?day\s+before\s+yesterday\b|\bпозавчера\b"), 2),
    (_pattern(r"\byesterday\b|\bвчера\b"), 1),
    (_pattern(r"\btoday\b|\bсегодня\b"), 0),
)
_MONTHS_AGO: Final = (
    (_pattern(r"\bthis\s+month\b|\b(?:в|за)\s+(?:этом|этот|текущем|текущий)\s+месяц[е]?\b"), 0),
    (_pattern(r"\blast\s+month\b|\b(?:в|за)\s+прошл(?:ом|ый)\s+месяц[е]?\b"), 1),
)
_YEARS_AGO: Final = (
    (_pattern(r"\bthis\s+year\b|\b(?:в|за)\s+(?:этом|этот|текущем|текущий)\s+год[у]?\b"), 0),
    (_pattern(r"\blast\s+year\b|\b(?:в|за)\s+прошл(?:ом|ый)\s+год[у]?\b"), 1),
)
_WEEKS_AGO: Final = (
    (
        _pattern(
            r"\bthis\s+week\b|\b(?:на|за)\s+(?:этой|текущей)\s+неделе\b"
            r"|\bза\s+(?:эту|текущую)\s+неделю\b"
        ),
        0,
    ),
    (
        _pattern(
            r"\b(?:last|previous|past)\s+week\b|\b(?:на|за)\s+прошлой\s+неделе\b"
            r"|\bза\s+прошлую\s+неделю\b"
        ),
        1,
    ),
)
"""ISO weeks (Monday to Sunday): this one up to today, or the whole previous one."""
_DAYS_BACK: Final = _pattern(
    r"\b(?P<n>\d{1,3})\s+days?\s+ago\b|\b(?P<n_ru>\d{1,3})\s+(?:дн\w*|день)\s+назад\b"
)
"""``3 days ago`` / ``3 дня назад``: that one day."""
_LAST_DAYS: Final = _pattern(
    r"\b(?:(?:in|over|for|during)\s+)?(?:the\s+)?(?:last|past)\s+(?P<n>\d+)\s+days\b"
    r"|\bза\s+последние\s+(?P<n_ru>\d+)\s+(?:дн\w*|день|дня)\b"
)
_CONNECTOR: Final = _pattern(r"\s*(?:-|to|till|until|through|thru|по|до|(?P<and>and|и))\s*")
_OPENER: Final = _pattern(r"\b(?:(?P<between>between|между)|from|с|со|от)\s*$")
_INCLUSIVE: Final = _pattern(r",?\s*\b(?:inclusive(?:ly)?|both\s+included|включительно)\b")


_BOUND: Final = _pattern(
    r"\b(?:(?P<after>after|later\s+than|после|позже|позднее)"
    r"|(?P<since>since|from|starting(?:\s+(?:from|on|with))?|as\s+of|on\s+or\s+after"
    r"|не\s+ранее|начиная\s+(?:с|со)|с|со)"
    r"|(?P<before>before|prior\s+to|earlier\s+than|до|раньше|ранее)"
    r"|(?P<until>until|till|up\s+to(?:\s+and\s+including)?|through|on\s+or\s+before"
    r"|no\s+later\s+than|not\s+later\s+than|не\s+позднее|по))\s*$"
)
"""A word before a lone date that opens the range on one side: "after October 2025" (from 1
Nov on), "since 20 Nov" (from 20 Nov on), "before 15 Nov" (up to 14 Nov), "until 15 Nov"
(up to 15 Nov). "after"/"before" leave the date out, "since"/"until" keep it."""


@dataclass(frozen=True, slots=True)
class DaySpan:
    """Calendar days ``first`` to ``last``, both inclusive, in UTC; ``before`` opens it to
    every earlier day (only ``last`` counts), ``after`` to every later day (only ``first``)."""

    first: date
    last: date
    before: bool = False
    after: bool = False


@dataclass(frozen=True, slots=True)
class _Mention:
    """One date phrase at ``[start, end)`` of the text; missing parts are None."""

    start: int
    end: int
    year: int | None = None
    month: int | None = None
    day: int | None = None
    last: int | None = None
    fixed: DaySpan | None = None


def month_number(word: str) -> int:
    """``"November"``/``"ноября"``/``"Nov."`` -> 11."""
    return _MONTHS[word.lower()[:3]]


def _number(match: re.Match[str], group: str) -> int | None:
    text = match.groupdict().get(group)
    return int(text) if text else None


def _calendar_mention(match: re.Match[str]) -> _Mention:
    groups = match.groupdict()
    month = month_number(groups["month"]) if groups.get("month") else _number(match, "mon")
    return _Mention(
        *match.span(),
        year=_number(match, "year"),
        month=month,
        day=_number(match, "day"),
        last=_number(match, "last"),
    )


def _months_back(today: date, months: int) -> DaySpan:
    index = today.year * 12 + today.month - 1 - months
    year, month = divmod(index, 12)
    return DaySpan(date(year, month + 1, 1), date(year, month + 1, monthrange(year, month + 1)[1]))


def _relative_mentions(scan: Scan, today: date) -> list[_Mention]:
    found = [
        (m, DaySpan(today - timedelta(n), today - timedelta(n)))
        for p, n in _DAYS_AGO
        for m in scan.take(p)
    ]
    found += [(m, _months_back(today, n)) for p, n in _MONTHS_AGO for m in scan.take(p)]
    found += [
        (m, DaySpan(date(today.year - n, 1, 1), date(today.year - n, 12, 31)))
        for p, n in _YEARS_AGO
        for m in scan.take(p)
    ]
    for pattern, weeks in _WEEKS_AGO:
        for match in scan.take(pattern):
            monday = today - timedelta(days=today.weekday() + 7 * weeks)
            found.append((match, DaySpan(monday, today if weeks == 0 else monday + timedelta(6))))
    for match in scan.take(_DAYS_BACK):
        day = today - timedelta(days=int(match["n"] or match["n_ru"]))
        found.append((match, DaySpan(day, day)))
    for match in scan.take(_LAST_DAYS):
        days = int(match["n"] or match["n_ru"])
        if days < 1:
            raise Unclear("date")
        found.append((match, DaySpan(today - timedelta(days - 1), today)))
    return [_Mention(*match.span(), fixed=span) for match, span in found]


def _default_year(month: int, day: int | None, today: date) -> int:
    """The year of the most recent such day (or month) that is not after ``today``."""
    if (month, day or 1) > (today.month, today.day if day else 1):
        return today.year - 1
    return today.year


def resolve(mention: _Mention, today: date) -> DaySpan:
    """The days a mention names; raises :class:`Unclear` ("date") for an impossible date."""
    if mention.fixed:
        return mention.fixed
    month = mention.month
    try:
        if month is None:
            return DaySpan(
                date(mention.year or today.year, 1, 1), date(mention.year or today.year, 12, 31)
            )
        year = mention.year or _default_year(month, mention.day, today)
        if mention.day is None:
            return DaySpan(date(year, month, 1), date(year, month, monthrange(year, month)[1]))
        return DaySpan(
            date(year, month, mention.day), date(year, month, mention.last or mention.day)
        )
    except ValueError as error:
        raise Unclear("date") from error


def _join(scan: Scan, first: _Mention, second: _Mention, today: date) -> DaySpan | None:
    """The range ``first`` to ``second`` when a connector ("-", "to", "по") joins them;
    "and"/"и" joins them only after "between"/"между"."""
    connector = _CONNECTOR.fullmatch(scan.text, first.end, second.start)
    opener = _OPENER.search(scan.text, 0, first.start)
    if not connector or (connector["and"] and not (opener and opener["between"])):
        return None
    last = resolve(second, today)
    if first.year is None and first.fixed is None:
        first = replace(first, year=last.first.year)
        if resolve(first, today).first > last.last:
            first = replace(first, year=last.first.year - 1)
    scan.blank(first.end, second.start)
    if opener:
        scan.blank(*opener.span())
    return DaySpan(resolve(first, today).first, last.last)


def _spans(scan: Scan, mentions: list[_Mention], today: date) -> list[DaySpan]:
    spans: list[DaySpan] = []
    index = 0
    while index < len(mentions):
        joined = None
        if index + 1 < len(mentions):
            joined = _join(scan, mentions[index], mentions[index + 1], today)
        spans.append(joined or resolve(mentions[index], today))
        index += 2 if joined else 1
    return spans


def take_span(scan: Scan, today: date) -> DaySpan | None:
    """The one date or range of the question (taken from ``scan``), or None when there is none.

    Raises :class:`Unclear`: "date" for an impossible date or a range ending before it
    starts, "dates" when the question names more than one date or range.
    """
    mentions = _relative_mentions(scan, today)
    mentions += [_calendar_mention(m) for pattern in _CALENDAR for m in scan.take(pattern)]
    scan.take(_INCLUSIVE)
    bound = _bound(scan, mentions[0]) if len(mentions) == 1 else None
    spans = _spans(scan, sorted(mentions, key=lambda mention: mention.start), today)
    if len(spans) > 1:
        raise Unclear("dates")
    if spans and spans[0].first > spans[0].last:
        raise Unclear("date")
    if spans and bound:
        return _opened(spans[0], bound)
    return spans[0] if spans else None


def _bound(scan: Scan, mention: _Mention) -> str | None:
    """The side a lone date opens to ("after", "since", "before", "until"), its word taken."""
    match = _BOUND.search(scan.text, 0, mention.start)
    if match is None:
        return None
    scan.blank(*match.span())
    return next(side for side in ("after", "since", "before", "until") if match[side])


def _opened(span: DaySpan, side: str) -> DaySpan:
    day = timedelta(days=1)
    match side:
        case "after":
            return DaySpan(span.last + day, span.last + day, after=True)
        case "since":
            return DaySpan(span.first, span.first, after=True)
        case "before":
            return DaySpan(span.first - day, span.first - day, before=True)
        case _:
            return DaySpan(span.last, span.last, before=True)
