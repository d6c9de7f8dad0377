"""Group reports for the Telegram commands /stats, /top, /heatmap and /activity.

The gateway asks (core NATS request on ``{p}.reports.chat``) with a
:class:`ChatReportRequested`; the executor answers with a :class:`ChatReport` read from the
rollups, within the asking chat only. Days are the chat's own calendar days (its
``timezone``), ``first`` to ``last`` inclusive; the previous period is the same number of
days just before.
"""

from datetime import date
from typing import Literal

from pydantic import Field

from tally.contracts.events import Event, Language

ReportKind = Literal["stats", "top", "heatmap", "activity"]
MAX_REPORT_DAYS = 366


class ChatReportRequested(Event):
    """A report of ``kind`` over the last ``days`` days (today included) of ``chat_id``."""

    chat_id: int
    kind: ReportKind
    days: int = Field(default=7, ge=1, le=MAX_REPORT_DAYS)
    language: Language = "en"
    timezone: str = Field(default="UTC", max_length=64)


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
    then zero)."""

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
