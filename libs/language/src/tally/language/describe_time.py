"""Time in an interpretation's words: a plan's time range ("published in Nov 2025 (UTC)",
"за 28 ноября 2025, 10:00–15:00 (UTC)"), its calendar ("on Saturdays, 00:00–09:00 (UTC)",
"в выходные (сб–вс)") and a series' step ("per day" / "по дням").
"""

from calendar import monthrange
from datetime import date, datetime, time, timedelta
from typing import Final

from tally.contracts.events import Language
from tally.semantic.plan import EARLIEST, LATEST, Calendar, Dimension, TimeRange

# fmt: off
_EN_MONTHS: Final = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)
_RU_GENITIVE: Final = (
    "января", "февраля", "марта", "апреля", "мая", "июня",
    "июля", "августа", "сентября", "октября", "ноября", "декабря",
)
_RU_NOMINATIVE: Final = (
    "январь", "февраль", "март", "апрель", "май", "июнь",
    "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
)
_RU_PREPOSITIONAL: Final = (
    "январе", "феврале", "марте", "апреле", "мае", "июне",
    "июле", "августе", "сентябре", "октябре", "ноябре", "декабре",
)
# fmt: on

SERIES: Final[dict[Language, dict[Dimension, str]]] = {
    "en": {Dimension.DAY: "per day", Dimension.HOUR: "per hour"},
    "ru": {Dimension.DAY: "по дням", Dimension.HOUR: "по часам"},
}


def period_phrase(span: TimeRange, language: Language) -> str:
    """The range in words, e.g. "published in Nov 2025 (UTC)" / "за 28 ноября 2025 (UTC)"."""
    start, end = span.start.astimezone(span.zone), span.end.astimezone(span.zone)
    published = span.column == "video_created_at"
    if (span.start == EARLIEST) != (span.end == LATEST):
        after = span.end == LATEST
        day = start.date() if after else end.date() - timedelta(days=1)
        template = _OPEN[language][(after, published)]
        return f"{template.format(day=_day(day, language))} ({span.timezone})"
    if start.time() != time() or end.time() != time():
        return f"{_hours(start, end, language, published)} ({span.timezone})"
    first, last = start.date(), end.date() - timedelta(days=1)
    return f"{_days(first, last, language, published)} ({span.timezone})"


def _day(day: date, language: Language, *, year: bool = True) -> str:
    month = _EN_MONTHS[day.month - 1] if language == "en" else _RU_GENITIVE[day.month - 1]
    return f"{day.day} {month} {day.year}" if year else f"{day.day} {month}"


def _range(first: date, last: date, language: Language) -> str:
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{_day(last, language)}"
    return f"{_day(first, language, year=first.year != last.year)} – {_day(last, language)}"


_PERIODS: Final[dict[Language, dict[tuple[str, bool], str]]] = {
    # (kind of period, is it the publication date) -> words with their preposition.
    "en": {
        ("day", True): "published on {day}",
        ("day", False): "on {day}",
        ("month", True): "published in {month}",
        ("month", False): "in {month}",
        ("year", True): "published in {year}",
        ("year", False): "in {year}",
        ("range", True): "published {range}",
        ("range", False): "during {range}",
    },
    "ru": {
        ("day", True): "опубликованные {day}",
        ("day", False): "за {day}",
        ("month", True): "опубликованные в {month_in}",
        ("month", False): "за {month}",
        ("year", True): "опубликованные в {year} году",
        ("year", False): "за {year} год",
        ("range", True): "опубликованные {range}",
        ("range", False): "за {range}",
    },
}


def _kind(first: date, last: date) -> str:
    if first == last:
        return "day"
    if (first.month, first.day, last.month, last.day) == (1, 1, 12, 31) and first.year == last.year:
        return "year"
    if first.day == 1 and last == first.replace(day=monthrange(first.year, first.month)[1]):
        return "month"
    return "range"


def _days(first: date, last: date, language: Language, published: bool) -> str:
    """The period in words with its preposition, e.g. "in Nov 2025" / "за ноябрь 2025"."""
    month = first.month - 1
    names = _EN_MONTHS if language == "en" else _RU_NOMINATIVE
    return _PERIODS[language][(_kind(first, last), published)].format(
        day=_day(first, language),
        range=_range(first, last, language),
        year=first.year,
        month=f"{names[month]} {first.year}",
        month_in=f"{_RU_PREPOSITIONAL[month]} {first.year}",
    )


_HOURS: Final[dict[Language, dict[tuple[bool, bool], str]]] = {
    # (within one day, is it the publication date) -> words for a range that is not whole days.
    "en": {
        (True, True): "published on {day} {hours}",
        (True, False): "on {day} {hours}",
        (False, True): "published from {start} to {end}",
        (False, False): "from {start} to {end}",
    },
    "ru": {
        (True, True): "опубликованные {day}, {hours}",
        (True, False): "за {day}, {hours}",
        (False, True): "опубликованные с {start} по {end}",
        (False, False): "с {start} по {end}",
    },
}


def _clock(moment: datetime, first: date) -> str:
    """``"10:00"``; the midnight that ends ``first`` is ``"24:00"``."""
    if moment.date() > first and moment.time() == time():
        return "24:00"
    return f"{moment:%H:%M}" if moment.second == 0 else f"{moment:%H:%M:%S}"


def _hours(start: datetime, end: datetime, language: Language, published: bool) -> str:
    """A range that is not whole UTC days: "on 28 Nov 2025 10:00–15:00" or, across days,
    "from 28 Nov 2025 10:00 to 29 Nov 2025 15:00" (ru: "за 28 ноября 2025, 10:00–15:00")."""
    first = start.date()
    one_day = end.date() == first or (end.date() == first + timedelta(1) and end.time() == time())
    separator = " " if language == "en" else ", "
    return _HOURS[language][(one_day, published)].format(
        day=_day(first, language),
        hours=f"{_clock(start, first)}–{_clock(end, first)}",
        start=f"{_day(first, language)}{separator}{start:%H:%M}",
        end=f"{_day(end.date(), language)}{separator}{end:%H:%M}",
    )


_OPEN: Final[dict[Language, dict[tuple[bool, bool], str]]] = {
    # (open to the future, is it the publication date) -> a range open on one side.
    "en": {
        (True, True): "published on or after {day}",
        (True, False): "on or after {day}",
        (False, True): "published on or before {day}",
        (False, False): "on or before {day}",
    },
    "ru": {
        (True, True): "опубликованные {day} или позже",
        (True, False): "начиная с {day}",
        (False, True): "опубликованные {day} или раньше",
        (False, False): "по {day} включительно",
    },
}

_EN_DAYS: Final = (
    "Mondays",
    "Tuesdays",
    "Wednesdays",
    "Thursdays",
    "Fridays",
    "Saturdays",
    "Sundays",
)

_RU_DAYS: Final = (
    "понедельникам",
    "вторникам",
    "средам",
    "четвергам",
    "пятницам",
    "субботам",
    "воскресеньям",
)

_DAY_GROUPS: Final[dict[Language, dict[tuple[int, ...], str]]] = {
    "en": {(1, 2, 3, 4, 5): "on weekdays (Mon–Fri)", (6, 7): "at weekends (Sat–Sun)"},
    "ru": {(1, 2, 3, 4, 5): "в будние дни (пн–пт)", (6, 7): "в выходные (сб–вс)"},
}


def calendar_phrase(calendar: Calendar, language: Language, *, dated: bool = False) -> str:
    """ "on Saturdays, 00:00–09:00 (UTC)" / "по субботам, 00:00–09:00 (UTC)"."""
    parts = []
    if calendar.weekdays:
        days = tuple(sorted(calendar.weekdays))
        names = _EN_DAYS if language == "en" else _RU_DAYS
        listed = (
            " and ".join(names[d - 1] for d in days)
            if language == "en"
            else ", ".join(names[d - 1] for d in days)
        )
        on = f"on {listed}" if language == "en" else f"по {listed}"
        parts.append(_DAY_GROUPS[language].get(days, on))
    if calendar.hours is not None:
        start, end = calendar.hours
        parts.append(f"{start:02d}:00–{end:02d}:00")
    published = calendar.column == "video_created_at" and not dated
    prefix = ("published " if language == "en" else "опубликованные ") if published else ""
    return f"{prefix}{', '.join(parts)} ({calendar.timezone})"
