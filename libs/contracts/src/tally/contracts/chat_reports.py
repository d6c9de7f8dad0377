"""Group reports for the Telegram commands /stats, /top, /heatmap and /activity.

The gateway asks (core NATS request on ``{p}.reports.chat``) with a
:class:`ChatReportRequested`; the executor answers with a :class:`ChatReport` read from the
rollups, within the asking chat only. Days are the chat's own calendar days (its
``timezone``), ``first`` to ``last`` inclusive; the previous period is the same number of
days just before. A request names its period either as the last ``days`` days (today
included) or as explicit ``first``/``last`` days (read by tally.language.report_period).
"""

from datetime import date, timedelta
from typing import Any, Final, Literal, Self

from pydantic import Field, TypeAdapter, model_validator

from tally.contracts.events import Event, Language
from tally.contracts.group_reports import (
    ContentBreakdown,
    MemberFlow,
    MemberStats,
    ReactionStats,
    ReplyStats,
    TopicActivity,
    TopMembers,
    TopWords,
)

ReportKind = Literal[
    "stats",
    "top",
    "heatmap",
    "activity",
    "member",
    "content",
    "reactions",
    "replies",
    "topics",
    "members",
    "words",
]
"""``member``: one member's personal stats (/me, /user); ``members``: joins, leaves and
inviters; the others as their commands say."""
TopMeasure = Literal["messages", "words", "reactions", "replies"]
"""What a /top ranks members by: messages sent, words written, reactions received, replies
received."""
MAX_REPORT_DAYS = 366
DEFAULT_TOP: Final = 10
"""Members in a /top that names no size."""
MAX_TOP: Final = 50
"""Most members a /top lists."""


_DATE: Final = TypeAdapter(date)


class ChatReportRequested(Event):
    """A report of ``kind`` of ``chat_id`` over the local days ``first`` to ``last``
    (inclusive) when given, else over the last ``days`` days (today included).

    ``first`` and ``last`` come together; with them ``days`` is their count (filled in when
    left out; a different one is invalid), so a reader of ``days`` alone still sees a period
    of the right length. At most MAX_REPORT_DAYS days either way.

    For /top, ``limit`` members (1..MAX_TOP) ranked ``by`` a measure; the other kinds
    ignore both. For ``member``, whose stats: ``user_id`` (/me: the asker), else the member
    with ``username`` (/user @name, without the @; this chat's members only).
    """

    chat_id: int
    kind: ReportKind
    days: int = Field(default=7, ge=1, le=MAX_REPORT_DAYS)
    first: date | None = None
    last: date | None = None
    language: Language = "en"
    timezone: str = Field(default="UTC", max_length=64)
    limit: int = Field(default=DEFAULT_TOP, ge=1, le=MAX_TOP)
    by: TopMeasure = "messages"
    user_id: int | None = None
    username: str | None = Field(default=None, max_length=64)

    @model_validator(mode="before")
    @classmethod
    def _days_of_period(cls, data: Any) -> Any:
        """``days`` from ``first``/``last`` when they are given and it is not."""
        if not isinstance(data, dict) or data.get("days") is not None:
            return data
        if data.get("first") is None or data.get("last") is None:
            return data
        try:
            length = (
                _DATE.validate_python(data["last"]) - _DATE.validate_python(data["first"])
            ).days
        except ValueError:  # the fields' own validation names the bad date
            return data
        return {**data, "days": length + 1} if length >= 0 else data

    @model_validator(mode="after")
    def _period_agrees(self) -> Self:
        if (self.first is None) != (self.last is None):
            raise ValueError("first and last are given together or not at all")
        if self.first is None or self.last is None:
            return self
        if self.last < self.first:
            raise ValueError(f"the period ends ({self.last}) before it starts ({self.first})")
        if (self.last - self.first).days + 1 != self.days:
            raise ValueError(f"days ({self.days}) is not the count of {self.first}..{self.last}")
        return self

    def span(self, today: date) -> tuple[date, date]:
        """The report's first and last local day (inclusive): ``first``/``last`` when given,
        else the ``days`` days ending ``today`` (the chat's local today)."""
        if self.first is not None and self.last is not None:
            return self.first, self.last
        return today - timedelta(days=self.days - 1), today


class DayActivity(Event):
    """One local day: messages sent and distinct people who wrote (DAU)."""

    day: date
    messages: int
    active_users: int


class UserActivity(Event):
    """One member's messages and active days in the period; ``label`` is @username, else
    their name, else their id."""

    label: str = Field(max_length=300)
    messages: int
    active_days: int


class ChatReport(Event):
    """What the commands show. ``heatmap`` is 7 rows (Monday first) of 24 hours (local) of
    messages; ``top_users`` is ranked by messages (ties by label); ``daily`` has every day of
    the period. ``previous_*`` are the same measures over the period just before.
    ``error`` is a sentence for the chat when the report could not be made (the figures are
    then zero). The newer kinds carry their result in one field each (tally.contracts.
    group_reports, the models the dashboard returns too): ``member`` (kind member), ``top``
    (top ranked by a measure other than messages), ``content``, ``reactions``, ``replies``,
    ``topics``, ``flow`` (kind members) and ``words``."""

    chat_id: int
    kind: ReportKind
    title: str | None = None
    timezone: str
    first: date
    last: date
    messages: int = 0
    active_users: int = 0
    new_members: int = 0
    left_members: int = 0
    previous_messages: int = 0
    previous_active_users: int = 0
    error: str | None = Field(default=None, max_length=500)
    daily: tuple[DayActivity, ...] = ()
    top_users: tuple[UserActivity, ...] = ()
    heatmap: tuple[tuple[int, ...], ...] = ()
    member: MemberStats | None = None
    top: TopMembers | None = None
    content: ContentBreakdown | None = None
    reactions: ReactionStats | None = None
    replies: ReplyStats | None = None
    topics: TopicActivity | None = None
    flow: MemberFlow | None = None
    words: TopWords | None = None
