"""The typed query plan: what nl2sql produces and the executor compiles.

A plan names one dataset of the catalog (:mod:`tally.semantic`), one measure over
it, filters, an optional time range and an optional grouping (top-N by an entity, or a
series by day or hour). It holds no SQL: the executor compiles it with SQLAlchemy Core and
bound parameters.
Time ranges are half-open ``[start, end)`` in UTC, so "November 1-5, 2025, inclusive" is
``start=2025-11-01T00:00Z, end=2025-11-06T00:00Z``.
"""

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tally import semantic


class Dataset(StrEnum):
    """A table that can be asked about."""

    VIDEOS = "videos"
    """One row per video with its final counters."""
    SNAPSHOTS = "video_snapshots"
    """One row per video per hour: counters at that hour and deltas since the previous one."""
    MESSAGES = "messages"
    """One row per group-chat message (chat-scoped: only the asking chat is read)."""
    MEMBER_EVENTS = "member_events"
    """One row per member joining or leaving a group chat (chat-scoped)."""


class Aggregate(StrEnum):
    COUNT = "count"
    COUNT_DISTINCT = "count_distinct"
    """Distinct values of the measure's column, or distinct calendar ``period``s (days, ISO
    weeks, months, in UTC) of the dataset's own time column when it has a period instead."""
    SUM = "sum"
    AVG = "avg"
    MIN = "min"
    MAX = "max"
    MEDIAN = "median"
    """PostgreSQL ``percentile_cont(0.5)``: the middle value, interpolated between the two
    middle values of an even count."""
    PERCENTILE = "percentile"
    """PostgreSQL ``percentile_cont(fraction)``: the value below which ``fraction`` of the
    values lie, interpolated (the 90th percentile is ``fraction=0.9``)."""
    SHARE = "share"
    """The percentage (0-100) of the plan's rows (after its filters and range) that also
    satisfy the measure's ``where``; NULL when there are no rows."""


class Op(StrEnum):
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    EQ = "="
    NE = "!="


_SEMANTIC: Final = semantic.catalog()
COUNTERS: Final = _SEMANTIC.column_names(Dataset.VIDEOS, "counter")
"""``views_count``, ``likes_count``, ``comments_count``, ``reports_count``."""
DELTAS: Final = _SEMANTIC.column_names(Dataset.SNAPSHOTS, "delta")
"""``delta_views_count``, ...: each counter's change since the previous hourly snapshot."""

# The columns a plan may name, spelt out so the JSON schema of a plan lists them; they equal
# the catalog's plannable columns (and its time columns), as a test checks.
Column = Literal[
    "id",
    "video_id",
    "creator_id",
    "views_count",
    "likes_count",
    "comments_count",
    "reports_count",
    "delta_views_count",
    "delta_likes_count",
    "delta_comments_count",
    "delta_reports_count",
    "chat_id",
    "message_id",
    "user_id",
    "word_count",
    "text_length",
    "links",
    "mentions",
    "hashtags",
    "message_type",
    "change",
]
TimeColumn = Literal["video_created_at", "created_at", "sent_at", "occurred_at"]
PLANNABLE: Final = ("id", "counter", "delta", "number", "category")
"""The column kinds a plan may measure or filter (time columns go in its range)."""

CATALOG: Final[dict[Dataset, frozenset[str]]] = {
    dataset: frozenset(_SEMANTIC.column_names(dataset, *PLANNABLE)) for dataset in Dataset
}
"""The columns a plan over each dataset may measure or filter, joined ones included
(``creator_id`` on snapshots is reached through the join snapshot -> video)."""
TIME_COLUMNS: Final[dict[Dataset, frozenset[str]]] = {
    dataset: frozenset(_SEMANTIC.column_names(dataset, "time")) for dataset in Dataset
}
"""The time columns a plan's range may be on (``video_created_at`` on snapshots is joined)."""


class Dimension(StrEnum):
    """What a grouped plan has one row per."""

    VIDEO = "video"
    """A video: ``videos.id``, or ``video_snapshots.video_id``."""
    CREATOR = "creator"
    """A creator: ``creator_id`` (joined through the video for snapshots)."""
    USER = "user"
    """A chat member: ``user_id`` (labelled with their @username or name)."""
    DAY = "day"
    """A calendar day (in the time range's zone) of the plan's time range column."""
    HOUR = "hour"
    """An hour (in the time range's zone) of the plan's time range column."""

    @property
    def is_time(self) -> bool:
        return self in (Dimension.DAY, Dimension.HOUR)


MAX_GROUPS: Final = 100
"""Most rows of a top-N answer (the longest list a chat reply shows)."""
MAX_SERIES: Final = {Dimension.DAY: timedelta(days=366), Dimension.HOUR: timedelta(days=7)}
"""Longest time range of a series: a year of days, a week of hours (168 rows)."""


def _check_zone(name: str) -> None:
    """Raise ValueError unless ``name`` is an IANA time zone this machine knows."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r}") from error


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Filter(_Model):
    """``column op value``: a comparison on a counter or an equality on an id."""

    column: Column
    op: Op
    value: int | str


Period = Literal["day", "week", "month"]
"""A calendar period of a time column, in UTC: a day, an ISO week (Monday first), a month."""
PERIOD_COLUMN: Final[dict[Dataset, TimeColumn]] = {
    Dataset.VIDEOS: "video_created_at",
    Dataset.SNAPSHOTS: "created_at",
}
"""The time column whose periods a ``count_distinct`` with a period counts, per dataset."""


class Measure(_Model):
    """An aggregate over a column; ``column`` is None for ``count`` of rows, ``share`` and a
    ``count_distinct`` of ``period``s.

    Raises ``pydantic.ValidationError`` when a column, ``fraction`` (``percentile``),
    ``where`` (``share``) or ``period`` is missing or given where it means nothing.
    """

    aggregate: Aggregate
    column: Column | None = None
    fraction: float | None = Field(default=None, gt=0, lt=1)
    """The percentile as a fraction, only for ``percentile``: 0.9 for the 90th."""
    where: tuple[Filter, ...] = ()
    """Only for ``share``: the condition whose rows' percentage is measured."""
    period: Period | None = None
    """Only for ``count_distinct`` without a column: count distinct periods."""

    @model_validator(mode="after")
    def _parts_needed(self) -> Self:
        without_column = {Aggregate.COUNT, Aggregate.SHARE}
        counts_periods = self.aggregate is Aggregate.COUNT_DISTINCT and self.period is not None
        if self.column is None and self.aggregate not in without_column and not counts_periods:
            raise ValueError(f"aggregate {self.aggregate} needs a column")
        if (self.aggregate is Aggregate.PERCENTILE) != (self.fraction is not None):
            raise ValueError("a percentile, and only a percentile, has a fraction")
        if (self.aggregate is Aggregate.SHARE) != bool(self.where):
            raise ValueError("a share, and only a share, has a where condition")
        if self.period is not None and (counts_periods is False or self.column is not None):
            raise ValueError("a period is counted by count_distinct without a column")
        if self.aggregate is Aggregate.SHARE and self.column is not None:
            raise ValueError("a share counts rows: it has no column")
        return self


class Comparison(_Model):
    """``column op other``: two columns of the same row compared, e.g. comments > likes."""

    column: Column
    op: Op
    other: Column


class Sender(_Model):
    """Who sent the chat rows counted (only for chat-scoped datasets).

    ``name``: one person, by their @username (without "@") or their first or full name,
    lower case; the executor refuses the question when no one, or more than one person, of
    the chat has that name. ``bots``: False leaves out every account Telegram marks as a bot.
    """

    name: str | None = Field(default=None, min_length=1, max_length=64)
    bots: bool = True

    @model_validator(mode="after")
    def _says_something(self) -> Self:
        if self.name is None and self.bots:
            raise ValueError("a sender names a person or leaves out bots")
        return self


class Calendar(_Model):
    """Parts of the calendar a time column must fall on, on the wall clock of ``timezone``:
    ISO ``weekdays`` (1 = Monday ... 7 = Sunday; empty: any day) and ``hours``, a half-open
    ``[start, end)`` hour-of-day range (``(0, 9)`` is before 09:00; None: any hour)."""

    column: TimeColumn
    weekdays: tuple[int, ...] = ()
    hours: tuple[int, int] | None = None
    timezone: str = Field(default="UTC", max_length=64)

    @model_validator(mode="after")
    def _sensible(self) -> Self:
        if any(day not in range(1, 8) for day in self.weekdays) or len(set(self.weekdays)) > 6:
            raise ValueError("weekdays are distinct ISO days 1-7, and not all seven")
        if self.hours is not None and not 0 <= self.hours[0] < self.hours[1] <= 24:
            raise ValueError("hours are a range [start, end) within 0-24")
        if not self.weekdays and self.hours is None:
            raise ValueError("a calendar names weekdays, hours or both")
        _check_zone(self.timezone)
        return self


EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
"""The start of a range open to the past ("published before November 2025")."""
LATEST: Final = datetime(9999, 1, 1, tzinfo=UTC)
"""The end of a range open to the future ("published after October 2025")."""


class TimeRange(_Model):
    """A half-open interval ``[start, end)`` of instants on a time column of the dataset.

    ``timezone`` (an IANA name) is the zone whose calendar the range was read in: its days
    bound the range, a series buckets by its days or hours, and interpretations show its
    dates. UTC for video statistics; a chat's own zone for questions about a chat.
    """

    column: TimeColumn
    start: datetime
    end: datetime
    timezone: str = Field(default="UTC", max_length=64)

    @model_validator(mode="after")
    def _ordered_and_aware(self) -> Self:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("time range bounds must carry a time zone (UTC)")
        if self.start >= self.end:
            raise ValueError("time range start must be before its end")
        _check_zone(self.timezone)
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Grouping(_Model):
    """One row per value of ``by``.

    Entities (video, creator) are ranked by the measure (``order``, ties by id) and cut to
    ``limit`` rows: "top 5 videos by views". Time dimensions form a series in time order over
    the whole time range, every bucket present (``limit`` is ignored): "views gained per day".
    """

    by: Dimension
    order: Literal["desc", "asc"] = "desc"
    limit: int = Field(default=10, ge=1, le=MAX_GROUPS)
    rank_by: Measure | None = None
    """Entities only: rank by this measure instead, and report the plan's measure of the
    entities it picks ("the comments of the most liked video")."""


class QueryPlan(_Model):
    """One question, as a measure over a dataset of the catalog, optionally grouped.

    ``interpretation`` states in the asker's language what is counted, e.g. "videos
    published 1–5 Nov 2025 (UTC) by creator abc123".
    Raises ``pydantic.ValidationError`` when a column does not belong to the dataset, or a
    series has no time range or a longer one than :data:`MAX_SERIES` allows.
    """

    version: Literal[1] = 1
    dataset: Dataset
    measure: Measure
    filters: tuple[Filter, ...] = ()
    time_range: TimeRange | None = None
    group_by: Grouping | None = None
    comparisons: tuple[Comparison, ...] = ()
    """Conditions between two columns of a row ("more comments than likes")."""
    calendar: Calendar | None = None
    """Weekdays and hours of the day a time column must fall on ("on Saturdays")."""
    sender: Sender | None = None
    """Whose chat rows are counted: one person, or everyone but bots."""
    interpretation: str = Field(max_length=500)

    @model_validator(mode="after")
    def _columns_in_catalog(self) -> Self:
        allowed = CATALOG[self.dataset]
        used = [f.column for f in (*self.filters, *self.measure.where)]
        used += [
            c for comparison in self.comparisons for c in (comparison.column, comparison.other)
        ]
        for measure in (self.measure, self.group_by.rank_by if self.group_by else None):
            if measure is not None and measure.column is not None:
                used.append(measure.column)
        if self.group_by and self.group_by.rank_by and self.group_by.by.is_time:
            raise ValueError("a series is not ranked")
        unknown = sorted(set(used) - allowed)
        if unknown:
            raise ValueError(f"columns {unknown} are not in dataset {self.dataset}")
        if self.sender is not None and not _SEMANTIC.chat_scoped(self.dataset):
            raise ValueError(f"a sender is only for chat datasets, not {self.dataset}")
        times = [r.column for r in (self.time_range, self.calendar) if r is not None]
        if self.measure.period is not None:
            times.append(PERIOD_COLUMN.get(self.dataset, "sent_at"))
        for column in times:
            if column not in TIME_COLUMNS[self.dataset]:
                raise ValueError(f"{column} is not a time column of {self.dataset}")
        if self.group_by and self.group_by.by.is_time:
            self._check_series(self.group_by.by)
        return self

    def _check_series(self, by: Dimension) -> None:
        if self.time_range is None:
            raise ValueError(f"a series by {by} needs a time range")
        if self.time_range.end - self.time_range.start > MAX_SERIES[by]:
            raise ValueError(f"a series by {by} spans at most {MAX_SERIES[by].days} days")
