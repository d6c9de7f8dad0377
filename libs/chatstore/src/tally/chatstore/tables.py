"""The chat tables: one SQLAlchemy Core handle per table, named as the table is in capitals
(``member_events`` -> ``MEMBER_EVENTS``).

The schema is declared once, by the ORM models of :mod:`tally.infra.db.models` and the
Alembic migrations; these handles are those models' tables. The write side
(:mod:`tally.chatstore.write`) and the read model (:mod:`tally.chatstore.read`) both use them.
"""

from typing import Any

from sqlalchemy import Column, Table

from tally.infra.db.models import (
    AdminAudit,
    Base,
    Chat,
    ChatContentDaily,
    ChatDaily,
    ChatHashtagsDaily,
    ChatHourly,
    ChatTopicDaily,
    ChatWordsDaily,
    MemberCount,
    MemberEvent,
    Message,
    MessageReaction,
    MessageReactionTotal,
    Reaction,
    ReactionCount,
    ReactionEmojiDaily,
    ReplyDelayBucketsDaily,
    ReplyDelayBucketsMonthly,
    ReplyDelaysDaily,
    ReplyPairsDaily,
    ReplyPairsMonthly,
    User,
    UserChatDaily,
    UserChatMonthly,
    UserHoursDaily,
    UserHoursMonthly,
    UserReactionsDaily,
    UserReactionsMonthly,
    UserRepliesDaily,
    UserRepliesMonthly,
    UserTopicMonthly,
)

Row = dict[str, Any]
"""A row of a chat table (or a statement's result): column name -> value."""


def _table(model: type[Base]) -> Table:
    """``model``'s table (typed as any ``FromClause`` by SQLAlchemy; a model's is a Table)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


CHATS = _table(Chat)
USERS = _table(User)
MESSAGES = _table(Message)
MEMBER_EVENTS = _table(MemberEvent)
REACTIONS = _table(Reaction)
REACTION_COUNTS = _table(ReactionCount)
CHAT_DAILY = _table(ChatDaily)
USER_CHAT_DAILY = _table(UserChatDaily)
CHAT_HOURLY = _table(ChatHourly)
USER_CHAT_MONTHLY = _table(UserChatMonthly)
CHAT_CONTENT_DAILY = _table(ChatContentDaily)
CHAT_TOPIC_DAILY = _table(ChatTopicDaily)
USER_TOPIC_MONTHLY = _table(UserTopicMonthly)
REPLY_PAIRS_DAILY = _table(ReplyPairsDaily)
MESSAGE_REACTIONS = _table(MessageReaction)
MESSAGE_REACTION_TOTALS = _table(MessageReactionTotal)
REACTION_EMOJI_DAILY = _table(ReactionEmojiDaily)
USER_REACTIONS_DAILY = _table(UserReactionsDaily)
USER_REACTIONS_MONTHLY = _table(UserReactionsMonthly)
USER_REPLIES_DAILY = _table(UserRepliesDaily)
USER_REPLIES_MONTHLY = _table(UserRepliesMonthly)
USER_HOURS_DAILY = _table(UserHoursDaily)
USER_HOURS_MONTHLY = _table(UserHoursMonthly)
REPLY_PAIRS_MONTHLY = _table(ReplyPairsMonthly)
REPLY_DELAYS_DAILY = _table(ReplyDelaysDaily)
REPLY_DELAY_BUCKETS_DAILY = _table(ReplyDelayBucketsDaily)
REPLY_DELAY_BUCKETS_MONTHLY = _table(ReplyDelayBucketsMonthly)
CHAT_WORDS_DAILY = _table(ChatWordsDaily)
CHAT_HASHTAGS_DAILY = _table(ChatHashtagsDaily)
MEMBER_COUNTS = _table(MemberCount)
ADMIN_AUDIT = _table(AdminAudit)
"""Not a chat table: the chat store writes the audit row of a settings change a chat admin made."""

CHAT_TABLES = (
    CHATS,
    USERS,
    MESSAGES,
    MEMBER_EVENTS,
    REACTIONS,
    REACTION_COUNTS,
    CHAT_DAILY,
    USER_CHAT_DAILY,
    CHAT_HOURLY,
    USER_CHAT_MONTHLY,
    CHAT_CONTENT_DAILY,
    CHAT_TOPIC_DAILY,
    USER_TOPIC_MONTHLY,
    REPLY_PAIRS_DAILY,
    MESSAGE_REACTIONS,
    MESSAGE_REACTION_TOTALS,
    REACTION_EMOJI_DAILY,
    USER_REACTIONS_DAILY,
    USER_REACTIONS_MONTHLY,
    USER_REPLIES_DAILY,
    USER_REPLIES_MONTHLY,
    USER_HOURS_DAILY,
    USER_HOURS_MONTHLY,
    REPLY_PAIRS_MONTHLY,
    REPLY_DELAYS_DAILY,
    REPLY_DELAY_BUCKETS_DAILY,
    REPLY_DELAY_BUCKETS_MONTHLY,
    CHAT_WORDS_DAILY,
    CHAT_HASHTAGS_DAILY,
    MEMBER_COUNTS,
)
"""Every table chat events write, raw and rollup (``user_chat_monthly``'s day masks by
trigger)."""

RAW_TABLES: tuple[tuple[Table, Column[Any]], ...] = (
    (MESSAGES, MESSAGES.c.sent_at),
    (MEMBER_EVENTS, MEMBER_EVENTS.c.occurred_at),
    (REACTIONS, REACTIONS.c.reacted_at),
    (REACTION_COUNTS, REACTION_COUNTS.c.updated_at),
    (MESSAGE_REACTIONS, MESSAGE_REACTIONS.c.sent_at),
    (MESSAGE_REACTION_TOTALS, MESSAGE_REACTION_TOTALS.c.sent_at),
)
"""The tables of raw rows (what a chat's retention deletes; the rollups are kept), each with
the column (``timestamptz``) a row is dated by."""
