"""Report periods (issue 15): what /stats, /top, /heatmap and /activity read after the command,
in English and Russian, and the refusals that name what could not be read.

Today is Wednesday, 10 December 2025 in the chat's zone throughout.
"""

from datetime import date

import pytest

from tally.contracts.chat_reports import MAX_REPORT_DAYS
from tally.infra.errors import UserFacingError
from tally.language.report_period import (
    DEFAULT_TOP,
    MAX_TOP,
    ReportArguments,
    ReportPeriod,
    ReportPeriodError,
    describe_period,
    read_period,
    read_report_arguments,
)

TODAY = date(2025, 12, 10)


def period(first: date, last: date) -> ReportPeriod:
    return ReportPeriod(first=first, last=last)


def nov(first: int, last: int) -> ReportPeriod:
    return period(date(2025, 11, first), date(2025, 11, last))


def dec(first: int, last: int) -> ReportPeriod:
    return period(date(2025, 12, first), date(2025, 12, last))


LAST_7 = dec(4, 10)
LAST_14 = period(date(2025, 11, 27), TODAY)
LAST_30 = period(date(2025, 11, 11), TODAY)
OCTOBER = period(date(2025, 10, 1), date(2025, 10, 31))
LAST_WEEK = dec(1, 7)

ACCEPTED = [
    # No period: the last 7 days, today included.
    ("", LAST_7),
    ("   ", LAST_7),
    # A number of days (bare or with d / д), weeks (w / н), months (m / м), years (y / г).
    ("7", LAST_7),
    ("1", dec(10, 10)),
    ("30", LAST_30),
    ("30d", LAST_30),
    ("30 d", LAST_30),
    ("30д", LAST_30),
    ("366", period(date(2024, 12, 10), TODAY)),
    ("2w", LAST_14),
    ("2н", LAST_14),
    ("1m", LAST_30),
    ("3m", period(date(2025, 9, 11), TODAY)),
    ("3м", period(date(2025, 9, 11), TODAY)),
    ("1y", period(date(2024, 12, 11), TODAY)),
    # ISO days and months, and ranges of them with "..".
    ("2025-11-01..2025-11-30", nov(1, 30)),
    ("2025-11-01 .. 2025-11-30", nov(1, 30)),
    ("2025-10..2025-11", period(date(2025, 10, 1), date(2025, 11, 30))),
    ("2025-11-05..2025-11-05", nov(5, 5)),
    ("2025-11", nov(1, 30)),
    ("2024-02", period(date(2024, 2, 1), date(2024, 2, 29))),
    ("2025-11-28", nov(28, 28)),
    ("28.11.2025", nov(28, 28)),
    # Rolling spans in words.
    ("last 14 days", LAST_14),
    ("past 14 days", LAST_14),
    ("the last 14 days", LAST_14),
    ("14 days", LAST_14),
    ("last 2 weeks", LAST_14),
    ("2 weeks", LAST_14),
    ("last 3 months", period(date(2025, 9, 11), TODAY)),
    ("за последние 14 дней", LAST_14),
    ("последние 14 дней", LAST_14),
    ("14 дней", LAST_14),
    ("за последние 2 недели", LAST_14),
    ("за 2 недели", LAST_14),
    ("за последние 3 месяца", period(date(2025, 9, 11), TODAY)),
    # Calendar words of the question reader.
    ("yesterday", dec(9, 9)),
    ("вчера", dec(9, 9)),
    ("today", dec(10, 10)),
    ("сегодня", dec(10, 10)),
    ("3 days ago", dec(7, 7)),
    ("3 дня назад", dec(7, 7)),
    ("last week", LAST_WEEK),
    ("Last Week", LAST_WEEK),
    ("for the last week", LAST_WEEK),
    ("за прошлую неделю", LAST_WEEK),
    ("на прошлой неделе", LAST_WEEK),
    ("this week", dec(8, 10)),
    ("на этой неделе", dec(8, 10)),
    ("last month", nov(1, 30)),
    ("за прошлый месяц", nov(1, 30)),
    # A period running past today ends today.
    ("this month", dec(1, 10)),
    ("в этом месяце", dec(1, 10)),
    ("December 2025", dec(1, 10)),
    ("this year", period(date(2025, 1, 1), TODAY)),
    ("2025-12-01..2025-12-31", dec(1, 10)),
    ("в октябре", OCTOBER),
    ("за октябрь", OCTOBER),
    ("in October", OCTOBER),
    ("October 2025", OCTOBER),
    ("в октябре 2024", period(date(2024, 10, 1), date(2024, 10, 31))),
    ("for October 2024", period(date(2024, 10, 1), date(2024, 10, 31))),
    ("in 2024", period(date(2024, 1, 1), date(2024, 12, 31))),
    ("с 1 по 15 ноября", nov(1, 15)),
    ("с 1 по 15 ноября 2025", nov(1, 15)),
    ("November 1-15, 2025", nov(1, 15)),
    ("from November 1 to November 15", nov(1, 15)),
    ("from 2025-11-01 to 2025-11-15", nov(1, 15)),
    ("between 1 and 15 November", nov(1, 15)),
    ("28 ноября 2025", nov(28, 28)),
    # A start without an end: from that day to today.
    ("since 20 November", period(date(2025, 11, 20), TODAY)),
    ("с 20 ноября", period(date(2025, 11, 20), TODAY)),
    ("after November 20", period(date(2025, 11, 21), TODAY)),
    ("since 2025-11-20", period(date(2025, 11, 20), TODAY)),
    # Found while implementing: a month alone, calendar years, day-first ranges.
    ("November", nov(1, 30)),
    ("ноябрь", nov(1, 30)),
    ("в ноябре 2025 года", nov(1, 30)),
    ("за 2024 год", period(date(2024, 1, 1), date(2024, 12, 31))),
    ("1 year", period(date(2024, 12, 11), TODAY)),
    ("1.11.2025-15.11.2025", nov(1, 15)),
    ("2025-11-01 - 2025-11-15", nov(1, 15)),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_accepted_periods(text: str, expected: ReportPeriod) -> None:
    """Each accepted form reads as its local calendar days, first and last inclusive."""
    assert read_period(text, today=TODAY) == expected


def test_period_length() -> None:
    """A period knows how many days it covers (both ends counted)."""
    assert nov(1, 30).days == 30
    assert dec(10, 10).days == 1


REFUSED = [
    # (text, reason, words the English sentence must quote)
    ("0", "empty", ()),
    ("0d", "empty", ()),
    ("367", "too_long", ("367",)),
    ("400d", "too_long", ("400",)),
    ("2y", "too_long", ()),
    ("last 400 days", "too_long", ("400",)),
    ("2024-01-01..2025-06-30", "too_long", ("547",)),
    ("2026-01", "future", ("2026-01-01",)),
    ("2025-12-20..2025-12-31", "future", ("2025-12-20",)),
    ("in 2026", "future", ("2026-01-01",)),
    ("January 2026", "future", ("2026-01-01",)),
    ("2025-11-30..2025-11-01", "reversed", ("2025-11-30", "2025-11-01")),
    ("2025-12..2025-11", "reversed", ("2025-12-01", "2025-11-30")),
    ("с 15 по 1 ноября", "date", ("с 15 по 1 ноября",)),
    ("2025-13", "date", ("2025-13",)),
    ("2025-02-30..2025-03-05", "date", ("2025-02-30",)),
    ("last fortnight", "unread", ("fortnight",)),
    ("bananas", "unread", ("bananas",)),
    ("tomorrow", "unread", ("tomorrow",)),
    ("30 bananas", "unread", ("bananas",)),
    ("в октябре пожалуйста", "unread", ("пожалуйста",)),
    ("last week only", "unread", ("only",)),
    ("7 days ago ago", "unread", ("ago",)),
    ("for", "unread", ("for",)),
    ("until 15 November", "no_start", ("until 15 November",)),
    ("до 15 ноября", "no_start", ("до 15 ноября",)),
    ("yesterday and last week", "dates", ()),
    ("2w 2025-11", "dates", ()),
    ("last 14 days in October", "dates", ()),
    ("2025-11-01..", "unread", ("..",)),
    ("2025-11-01 -", "unread", ("-",)),
    ("Novel", "unread", ("Novel",)),
    ("2 weeks ago", "unread", ("ago",)),
    ("99999999999", "too_long", ("99999999999",)),
    ("99999m", "too_long_far", ()),
]


@pytest.mark.parametrize(("text", "reason", "quoted"), REFUSED)
def test_refused_periods(text: str, reason: str, quoted: tuple[str, ...]) -> None:
    """A period that cannot be read, is empty, too long, in the future or reversed is refused
    with a sentence naming what was wrong, never clipped or guessed."""
    with pytest.raises(ReportPeriodError) as caught:
        read_period(text, today=TODAY)
    error = caught.value
    assert error.reason == reason
    for word in quoted:
        assert word in error.texts["en"], error.texts["en"]


def test_refusal_in_both_languages() -> None:
    """The refusal carries an English and a Russian sentence; ``message`` is the hint's."""
    with pytest.raises(ReportPeriodError) as caught:
        read_period("в октябре пожалуйста", today=TODAY, language="ru")
    error = caught.value
    assert isinstance(error, UserFacingError)
    assert error.message == error.texts["ru"]
    assert "«пожалуйста»" in error.texts["ru"]
    assert "'пожалуйста'" in error.texts["en"]
    assert "период" in error.texts["ru"]
    with pytest.raises(ReportPeriodError) as caught_en:
        read_period("bananas", today=TODAY)
    assert caught_en.value.message == caught_en.value.texts["en"]


def test_too_long_names_the_limit() -> None:
    """The too-long refusal says the most days a report covers, in both languages."""
    with pytest.raises(ReportPeriodError) as caught:
        read_period("500", today=TODAY)
    assert str(MAX_REPORT_DAYS) in caught.value.texts["en"]
    assert str(MAX_REPORT_DAYS) in caught.value.texts["ru"]


@pytest.mark.parametrize(
    ("text", "words"),
    [("401", "401 день"), ("402", "402 дня"), ("400", "400 дней"), ("411", "411 дней")],
)
def test_russian_day_count_agrees(text: str, words: str) -> None:
    """The Russian too-long sentence says "401 день", "402 дня", "400 дней", "411 дней"."""
    with pytest.raises(ReportPeriodError) as caught:
        read_period(text, today=TODAY, language="ru")
    assert words in caught.value.message


def test_today_is_the_chat_s_today() -> None:
    """The same words read from the chat's own today: "yesterday" on 1 Jan is 31 Dec."""
    assert read_period("yesterday", today=date(2026, 1, 1)) == period(
        date(2025, 12, 31), date(2025, 12, 31)
    )
    assert read_period("в октябре", today=date(2025, 9, 30)) == period(
        date(2024, 10, 1), date(2024, 10, 31)
    )


def args(
    by: str = "messages", limit: int | None = None, period: ReportPeriod = LAST_7
) -> ReportArguments:
    return ReportArguments(period=period, limit=limit, by=by)  # type: ignore[arg-type]


COMMANDS = [
    ("top", "", args(limit=DEFAULT_TOP)),
    ("top", None, args(limit=DEFAULT_TOP)),
    ("top", "5 by reactions 2025-11", args("reactions", 5, nov(1, 30))),
    ("top", "by words last week", args("words", DEFAULT_TOP, LAST_WEEK)),
    ("top", "10", args(limit=10)),
    ("top", "5 30", args(limit=5, period=LAST_30)),
    ("top", "5 30d", args(limit=5, period=LAST_30)),
    ("top", "3 last week by replies", args("replies", 3, LAST_WEEK)),
    ("top", "7 days", args(limit=DEFAULT_TOP)),
    ("top", "28 November 2025", args(limit=DEFAULT_TOP, period=nov(28, 28))),
    ("top", "3 по реакциям за октябрь", args("reactions", 3, OCTOBER)),
    ("top", "по ответам в октябре", args("replies", DEFAULT_TOP, OCTOBER)),
    ("top", "по словам за прошлую неделю", args("words", DEFAULT_TOP, LAST_WEEK)),
    ("top", "5 по сообщениям", args("messages", 5)),
    ("top", "by messages", args("messages", DEFAULT_TOP)),
    ("top", "5 с 1 по 15 ноября", args(limit=5, period=nov(1, 15))),
    ("stats", "30", args(period=LAST_30)),
    ("stats", "", args()),
    ("stats", "в октябре", args(period=OCTOBER)),
    ("stats", "2025-11", args(period=nov(1, 30))),
    ("heatmap", "2w", args(period=LAST_14)),
    ("activity", "last month", args(period=nov(1, 30))),
    ("activity", "с 1 по 15 ноября", args(period=nov(1, 15))),
]


@pytest.mark.parametrize(("kind", "text", "expected"), COMMANDS)
def test_report_arguments(kind: str, text: str | None, expected: ReportArguments) -> None:
    """A command's arguments: /top's size (a leading number that does not begin a date) and
    measure (by/по ...), and the period; other reports take only a period."""
    assert read_report_arguments(kind, text, today=TODAY) == expected  # type: ignore[arg-type]


REFUSED_COMMANDS = [
    ("top", "0", "limit", (str(MAX_TOP),)),
    ("top", f"{MAX_TOP + 1}", "limit", (str(MAX_TOP),)),
    ("top", "5 by likes", "measure", ("likes",)),
    ("top", "по лайкам", "measure", ("лайкам",)),
    ("top", "by words by replies", "measures", ()),
    ("top", "5 bananas", "unread", ("bananas",)),
    ("stats", "by words", "not_top", ("/stats",)),
    ("heatmap", "5 по реакциям", "not_top", ("/heatmap",)),
    ("stats", "30 extra", "unread", ("extra",)),
    ("stats", "2026-01", "future", ()),
    ("activity", "500", "too_long", ()),
    ("activity", "по понедельникам", "unread", ("понедельникам",)),
]


@pytest.mark.parametrize(("kind", "text", "reason", "quoted"), REFUSED_COMMANDS)
def test_refused_arguments(kind: str, text: str, reason: str, quoted: tuple[str, ...]) -> None:
    """An argument the command does not take is refused with the word named."""
    with pytest.raises(ReportPeriodError) as caught:
        read_report_arguments(kind, text, today=TODAY)  # type: ignore[arg-type]
    assert caught.value.reason == reason
    for word in quoted:
        assert word in caught.value.texts["en"], caught.value.texts["en"]


DESCRIBED = [
    (nov(1, 30), "en", "Europe/Berlin", "1–30 Nov 2025 (Europe/Berlin)"),
    (nov(1, 30), "ru", "Europe/Berlin", "1–30 ноября 2025 (Europe/Berlin)"),
    (nov(28, 28), "en", "UTC", "28 Nov 2025 (UTC)"),
    (nov(28, 28), "ru", "UTC", "28 ноября 2025 (UTC)"),
    (period(date(2025, 11, 25), date(2025, 12, 5)), "en", "UTC", "25 Nov – 5 Dec 2025 (UTC)"),
    (
        period(date(2025, 11, 25), date(2025, 12, 5)),
        "ru",
        "Asia/Tokyo",
        "25 ноября – 5 декабря 2025 (Asia/Tokyo)",
    ),
    (
        period(date(2024, 12, 25), date(2025, 1, 5)),
        "en",
        "UTC",
        "25 Dec 2024 – 5 Jan 2025 (UTC)",
    ),
    (
        period(date(2024, 12, 25), date(2025, 1, 5)),
        "ru",
        "UTC",
        "25 декабря 2024 – 5 января 2025 (UTC)",
    ),
]


@pytest.mark.parametrize(("given", "language", "zone", "expected"), DESCRIBED)
def test_describe_period(given: ReportPeriod, language: str, zone: str, expected: str) -> None:
    """The reply names the period's days and the chat's time zone."""
    assert describe_period(given, language, zone) == expected  # type: ignore[arg-type]


def test_read_then_describe() -> None:
    """What a reader typed comes back named: "в октябре" -> "1–31 октября 2025 (...)"."""
    read = read_period("в октябре", today=TODAY, language="ru")
    assert describe_period(read, "ru", "Europe/Moscow") == "1–31 октября 2025 (Europe/Moscow)"
