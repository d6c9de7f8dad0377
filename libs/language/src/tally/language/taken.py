"""The phrases of known shape read off a question first: dates, hour windows, video and
creator ids, rankings, series, comparisons, percentiles and shares.

Each is taken from the :class:`Scan` (its words blanked) in an order where none can swallow
another's words; what is left is weighed by :mod:`signals`.
"""

import re
from dataclasses import dataclass
from datetime import date

from tally.language import vocabulary as words
from tally.language.constructs import (
    Bound,
    CalendarWords,
    take_calendar,
    take_counter_comparisons,
    take_excluded_creator,
    take_percentile,
    take_period,
    take_ranges,
    take_share,
    take_some,
)
from tally.language.dates import DaySpan, take_span
from tally.language.grouping import Ranking, take_ranking, take_series
from tally.language.hours import HourWindow, take_hours
from tally.language.numbers import read_number
from tally.language.scan import Scan, Unclear
from tally.semantic.plan import Comparison, Dimension, Op, Period


@dataclass(frozen=True, slots=True)
class Taken:
    """The phrases read from the question before its words are weighed."""

    span: DaySpan | None
    hours: HourWindow | None
    video: str | None
    creator: str | None
    ranking: Ranking | None
    series: Dimension | None
    comparisons: tuple[Bound, ...]
    excluded: str | None = None
    """A creator left out: "except creator X"."""
    pairs: tuple[Comparison, ...] = ()
    calendar: CalendarWords | None = None
    fraction: float | None = None
    """The percentile asked for, as a fraction."""
    share: bool = False
    period: Period | None = None
    """Distinct days, weeks or months counted."""


def take_phrases(scan: Scan, today: date) -> Taken:
    """Every phrase of known shape, in an order where none can swallow another's words;
    raises :class:`Unclear` ("read_only") for a request to change data, ("hours") for an hour
    window without a day, ("unknown") for a ranking and a series at once."""
    if scan.has(words.WRITE):
        raise Unclear("read_only")
    period, share, fraction = take_period(scan), take_share(scan), take_percentile(scan)
    hours = take_hours(scan)
    calendar = take_calendar(scan)
    span = take_span(scan, today)
    if hours and span is None:
        raise Unclear("hours")
    video = _take_video(scan)
    excluded = take_excluded_creator(scan)
    creator = _take_creator(scan)
    ranking = take_ranking(scan)
    series = take_series(scan)
    if ranking and series:
        raise Unclear("unknown")
    if ranking or series:
        scan.take(words.SHOW)
    pairs = take_counter_comparisons(scan)
    bounds = take_ranges(scan) + _take_comparisons(scan) + take_some(scan)
    scan.take(words.ALL_TIME)
    return Taken(
        span,
        hours,
        video,
        creator,
        ranking,
        series,
        tuple(bounds),
        excluded=excluded,
        pairs=pairs,
        calendar=calendar,
        fraction=fraction,
        share=share,
        period=period,
    )


def _take_video(scan: Scan) -> str | None:
    """A video's UUID ("video 0f8c…-…"), lower-cased; the word "video" before it is taken."""
    match = next(iter(scan.take(words.VIDEO_ID)), None)
    return match["id"].lower() if match else None


def _take_creator(scan: Scan) -> str | None:
    for match in words.CREATOR_ID.finditer(scan.text):
        if match["marker"] or any(char.isdigit() for char in match["id"]):
            scan.blank(*match.span())
            return match["id"]
    return None


def _comparison(match: re.Match[str]) -> Bound:
    op = next(op for op in Op if match.groupdict().get(op.name))
    return Bound(words.counter_of(match), op, read_number(match["number"], match["multiplier"]))


def _take_comparisons(scan: Scan) -> list[Bound]:
    matches = [
        match
        for pattern in (words.COMPARISON, words.COMPARISON_AFTER, words.COMPARISON_PLUS)
        for match in scan.take(pattern)
    ]
    comparisons = [_comparison(match) for match in matches]
    zeros = scan.take(words.COMPARISON_NONE)
    return comparisons + [Bound(words.counter_of(match), Op.EQ, 0) for match in zeros]
