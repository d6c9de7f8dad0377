"""A group's reports over a period of local days (``from``..``to``, inclusive): what was
posted, reactions, replies, topics, who came and went, top words, top members and one
member's figures. Each route answers with the chat store's own report
(:mod:`tally.chatstore.read`), the one the Telegram commands show.
"""

from typing import Annotated

from fastapi import APIRouter, Path, Query

from tally.chatstore import read as chat_stats
from tally.chatstore.read import MAX_TOP
from tally.contracts.events import Language
from tally.contracts.group_reports import (
    ContentBreakdown,
    MemberFlow,
    MemberMeasure,
    MemberStats,
    ReactionStats,
    ReplyStats,
    TopicActivity,
    TopMembers,
    TopWords,
)
from tally.dashboard.deps import ChatDep, DatabaseDep, PeriodDep

router = APIRouter(prefix="/api/chats/{chat_id}", tags=["group reports"])

LimitDep = Annotated[int, Query(ge=1, le=MAX_TOP, description="how many in each top list")]


@router.get("/content")
async def content(chat: ChatDep, period: PeriodDep, db: DatabaseDep) -> ContentBreakdown:
    """Messages by type, links, mentions, hashtags, forwards and replies; the top hashtags
    only when the chat stores text (``top_hashtags`` null otherwise)."""
    return await chat_stats.content_breakdown(db, chat.chat_id, period)


@router.get("/reactions")
async def reactions(
    chat: ChatDep, period: PeriodDep, db: DatabaseDep, limit: LimitDep = 10
) -> ReactionStats:
    """Reactions standing on the period's messages: most used emoji, most reacted messages,
    the members who received and who gave most."""
    return await chat_stats.reaction_stats(db, chat.chat_id, period, limit)


@router.get("/replies")
async def replies(
    chat: ChatDep, period: PeriodDep, db: DatabaseDep, limit: LimitDep = 10
) -> ReplyStats:
    """Replies sent in the period: their share of messages, the median delay in seconds and
    the busiest replier -> replied-to pairs."""
    return await chat_stats.reply_stats(db, chat.chat_id, period, limit)


@router.get("/topics")
async def topics(chat: ChatDep, period: PeriodDep, db: DatabaseDep) -> TopicActivity:
    """Messages and posting members per forum topic, busiest first (``thread_id`` null: the
    general topic, or a chat without topics)."""
    return await chat_stats.topic_activity(db, chat.chat_id, period)


@router.get("/members/flow")
async def member_flow(
    chat: ChatDep, period: PeriodDep, db: DatabaseDep, limit: LimitDep = 10
) -> MemberFlow:
    """Joins and leaves per local day, how members joined, the top inviters and churn."""
    return await chat_stats.member_flow(db, chat.chat_id, period, limit)


@router.get("/members/{user_id}")
async def member(
    chat: ChatDep,
    period: PeriodDep,
    db: DatabaseDep,
    user_id: Annotated[int, Path(description="Telegram user id", ge=1, le=2**63 - 1)],
) -> MemberStats:
    """One member's figures beside the previous period of equal length, favourite hours and
    reply partners; a user Tally never saw has all figures 0."""
    return await chat_stats.member_stats(db, chat.chat_id, user_id, period)


@router.get("/top")
async def top(
    chat: ChatDep,
    period: PeriodDep,
    db: DatabaseDep,
    by: MemberMeasure = "messages",
    limit: LimitDep = 10,
) -> TopMembers:
    """The members with the most messages, words, reactions received or replies received
    (``by``; any other value is a 422)."""
    return await chat_stats.top_members(db, chat.chat_id, period, by, limit)


@router.get("/words")
async def words(
    chat: ChatDep,
    period: PeriodDep,
    db: DatabaseDep,
    language: Language | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> TopWords:
    """The most written words per language (``ru``, ``en``; both without ``language``), stop
    words left out. A chat that does not store text is answered 200 with ``text_stored``
    false, ``words`` empty and ``refusal`` saying why: words are never guessed."""
    return await chat_stats.top_words(db, chat.chat_id, period, language, limit)
