"""What the chat statistics answer, as pydantic models (the dashboard returns them as JSON).

Dates are local calendar days in the chat's zone (``timezone``); periods are inclusive of
both ends. Instants are timezone-aware.
"""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from tally.contracts.chat_events import ChatSettings, ChatType

SeriesMetric = Literal["messages", "dau", "members"]
Bucket = Literal["hour", "day", "week"]
UserSort = Literal["messages", "active_days", "last_seen"]
SortOrder = Literal["asc", "desc"]


class ChatInfo(BaseModel):
    """A chat and its settings."""

    chat_id: int
    chat_type: ChatType
    title: str | None
    first_seen_at: datetime
    settings: ChatSettings


class PeriodTotals(BaseModel):
    """Messages and distinct active (posting) users over local days ``start``..``end``."""

    start: date
    end: date
    messages: int
    active_users: int


class ChatOverview(ChatInfo):
    """A chat with its totals over the last 30 local days (today included)."""

    last_30_days: PeriodTotals


class Compared(BaseModel):
    """A value beside the previous period's: ``change = value - previous``, ``change_pct``
    that change in percent of ``previous`` (None when ``previous`` is 0)."""

    value: int | float
    previous: int | float
    change: int | float
    change_pct: float | None


class Summary(BaseModel):
    """A period's KPIs against the previous period of equal length.

    ``messages``: messages posted; ``active_users``: distinct users who posted; ``dau``: the
    mean over the period's days of the users who posted that day (days without any count as
    0); ``wau`` / ``mau``: distinct users who posted in the 7 / 30 days ending on the period's
    last day; ``new_members`` / ``left_members``: joins and leaves.
    """

    chat_id: int
    timezone: str
    start: date
    end: date
    previous_start: date
    previous_end: date
    messages: Compared
    active_users: Compared
    dau: Compared
    wau: Compared
    mau: Compared
    new_members: Compared
    left_members: Compared


class SeriesPoint(BaseModel):
    """One bucket: ``start`` is its first instant, in the chat's zone. For ``members``,
    ``value`` is ``joins - leaves`` and both are given."""

    start: datetime
    value: int | float
    joins: int | None = None
    leaves: int | None = None


class Timeseries(BaseModel):
    """Every bucket of the period, in order, empty ones included (value 0)."""

    chat_id: int
    timezone: str
    metric: SeriesMetric
    bucket: Bucket
    start: date
    end: date
    points: list[SeriesPoint]


class Heatmap(BaseModel):
    """Messages by local weekday (row 0 = Monday) and local hour (column 0 = 00:00-00:59)."""

    chat_id: int
    timezone: str
    start: date
    end: date
    cells: list[list[int]] = Field(min_length=7, max_length=7)
    total: int


class UserStats(BaseModel):
    """A user's activity in the period: messages, days with a message, and the last of them."""

    user_id: int
    username: str | None
    first_name: str | None
    last_name: str | None
    messages: int
    active_days: int
    last_seen: date


class UsersPage(BaseModel):
    """One page of the users who posted in the period; ``total`` counts every match."""

    chat_id: int
    start: date
    end: date
    page: int
    size: int
    total: int
    sort: UserSort
    order: SortOrder
    search: str | None
    items: list[UserStats]


class Cohort(BaseModel):
    """Users first seen (joined or first posted) in the local ISO week starting ``week``:
    ``active[k]`` of them posted in week ``week + k``, ``shares[k]`` = ``active[k] / size``."""

    week: date
    size: int
    active: list[int]
    shares: list[float]


class Retention(BaseModel):
    """Weekly cohorts whose week starts in the period; weeks after ``end`` are not given."""

    chat_id: int
    timezone: str
    start: date
    end: date
    weeks: int
    cohorts: list[Cohort]


class RetentionPreview(BaseModel):
    """What applying retention now would delete: raw rows older than ``cutoff`` (``now``
    minus ``retention_days``). Rollups are kept. Nothing when retention is off."""

    chat_id: int
    retention_days: int | None
    cutoff: datetime | None
    messages: int
    member_events: int
    reactions: int
