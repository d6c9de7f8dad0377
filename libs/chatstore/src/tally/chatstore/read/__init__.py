"""Chat statistics: SQLAlchemy Core statements and the async functions that run them.

Used by the dashboard's API and meant for any service that answers about a chat (the
Telegram ``/stats`` command). Every function takes a :data:`Database` (an SQLAlchemy
``AsyncConnection``, or an asyncpg connection or pool) and returns pydantic models.

Time is the chat's own: a :class:`Period` is local calendar days (inclusive) in the chat's
IANA zone, turned into UTC instants with zoneinfo, so days and hours stay right across DST.
Answers come from the rollups ingest keeps (``chat_daily`` and ``user_chat_daily`` by local
day, ``chat_hourly`` by UTC hour); the raw tables are read only where a rollup cannot answer:
hours in zones offset by a fraction of an hour, member changes by hour, a user's first join
(retention cohorts), and the retention preview.
"""

from tally.chatstore.read.chats import get_chat, list_chats
from tally.chatstore.read.connection import Database
from tally.chatstore.read.errors import StatsRequestError
from tally.chatstore.read.heatmap import heatmap
from tally.chatstore.read.models import (
    Bucket,
    ChatInfo,
    ChatOverview,
    Cohort,
    Compared,
    Heatmap,
    PeriodTotals,
    Retention,
    RetentionPreview,
    SeriesMetric,
    SeriesPoint,
    SortOrder,
    Summary,
    Timeseries,
    UserSort,
    UsersPage,
    UserStats,
)
from tally.chatstore.read.periods import MAX_PERIOD_DAYS, Period, is_timezone, zone
from tally.chatstore.read.retention import MAX_WEEKS, retention, retention_preview
from tally.chatstore.read.series import MAX_HOURLY_DAYS, timeseries
from tally.chatstore.read.summary import summary
from tally.chatstore.read.users import MAX_PAGE_SIZE, SORT_KEYS, UsersQuery, users

__all__ = [
    "MAX_HOURLY_DAYS",
    "MAX_PAGE_SIZE",
    "MAX_PERIOD_DAYS",
    "MAX_WEEKS",
    "SORT_KEYS",
    "Bucket",
    "ChatInfo",
    "ChatOverview",
    "Cohort",
    "Compared",
    "Database",
    "Heatmap",
    "Period",
    "PeriodTotals",
    "Retention",
    "RetentionPreview",
    "SeriesMetric",
    "SeriesPoint",
    "SortOrder",
    "StatsRequestError",
    "Summary",
    "Timeseries",
    "UserSort",
    "UserStats",
    "UsersPage",
    "UsersQuery",
    "get_chat",
    "heatmap",
    "is_timezone",
    "list_chats",
    "retention",
    "retention_preview",
    "summary",
    "timeseries",
    "users",
    "zone",
]
