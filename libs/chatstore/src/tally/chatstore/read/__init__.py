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

The group reports (``/user``, tops, content, reactions, replies, topics, member flow,
words) read the rollups of migration 0009 too, by local day (``chat_content_daily``,
``chat_topic_daily``, ``user_topic_monthly``, ``reply_pairs_daily``, ``reaction_emoji_daily``,
``user_reactions_daily``, ``chat_words_daily``, ``chat_hashtags_daily``), and the monthly
ones of 0012, 0013 (a member's favourite hours) and 0014 (the reply report's pairs and
delays: ``tally.chatstore.read.replies``); the raw tables only for the most reacted messages
(``message_reactions``), always one chat and one period, through their ``(chat_id, sent_at)``
indexes.
"""

from tally.chatstore.read.chats import get_chat, list_chats
from tally.chatstore.read.connection import Database
from tally.chatstore.read.content import content_breakdown
from tally.chatstore.read.errors import StatsRequestError
from tally.chatstore.read.flow import member_flow
from tally.chatstore.read.heatmap import heatmap
from tally.chatstore.read.members import find_member, member_stats
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
from tally.chatstore.read.rankings import MAX_TOP, MEASURES, top_members
from tally.chatstore.read.reactions import reaction_stats
from tally.chatstore.read.replies import reply_stats
from tally.chatstore.read.retention import MAX_WEEKS, retention, retention_preview
from tally.chatstore.read.series import MAX_HOURLY_DAYS, timeseries
from tally.chatstore.read.summary import summary
from tally.chatstore.read.topics import topic_activity
from tally.chatstore.read.users import MAX_PAGE_SIZE, SORT_KEYS, UsersQuery, users
from tally.chatstore.read.words import top_words
from tally.contracts.group_reports import (
    ContentBreakdown,
    DayCount,
    DayFlow,
    EmojiCount,
    HourCount,
    Member,
    MemberCount,
    MemberFigures,
    MemberFlow,
    MemberMeasure,
    MemberStats,
    MessageReactions,
    ReactionStats,
    ReplyPair,
    ReplyStats,
    TagCount,
    TopicActivity,
    TopicCount,
    TopMembers,
    TopWords,
    TypeCount,
    WordCount,
)

__all__ = [
    "MAX_HOURLY_DAYS",
    "MAX_PAGE_SIZE",
    "MAX_PERIOD_DAYS",
    "MAX_TOP",
    "MAX_WEEKS",
    "MEASURES",
    "SORT_KEYS",
    "Bucket",
    "ChatInfo",
    "ChatOverview",
    "Cohort",
    "Compared",
    "ContentBreakdown",
    "Database",
    "DayCount",
    "DayFlow",
    "EmojiCount",
    "Heatmap",
    "HourCount",
    "Member",
    "MemberCount",
    "MemberFigures",
    "MemberFlow",
    "MemberMeasure",
    "MemberStats",
    "MessageReactions",
    "Period",
    "PeriodTotals",
    "ReactionStats",
    "ReplyPair",
    "ReplyStats",
    "Retention",
    "RetentionPreview",
    "SeriesMetric",
    "SeriesPoint",
    "SortOrder",
    "StatsRequestError",
    "Summary",
    "TagCount",
    "Timeseries",
    "TopMembers",
    "TopWords",
    "TopicActivity",
    "TopicCount",
    "TypeCount",
    "UserSort",
    "UserStats",
    "UsersPage",
    "UsersQuery",
    "WordCount",
    "content_breakdown",
    "find_member",
    "get_chat",
    "heatmap",
    "is_timezone",
    "list_chats",
    "member_flow",
    "member_stats",
    "reaction_stats",
    "reply_stats",
    "retention",
    "retention_preview",
    "summary",
    "timeseries",
    "top_members",
    "top_words",
    "topic_activity",
    "users",
    "zone",
]
