"""What a chat posted in a period: messages by type, links, mentions, hashtags, forwards and
replies, from ``chat_content_daily`` (local days of the chat's zone); the top hashtags only
when the chat stores text, from ``chat_hashtags_daily`` (which ingest counts from the text it
stores, of messages Telegram marked as having a hashtag; :mod:`tally.chatstore.tokens`)."""

from sqlalchemy import func, select

from tally.chatstore.read.connection import Database, fetch_all
from tally.chatstore.read.conversation import stores_text
from tally.chatstore.read.periods import Period
from tally.chatstore.tables import CHAT_CONTENT_DAILY, CHAT_HASHTAGS_DAILY
from tally.contracts.group_reports import ContentBreakdown, TagCount, TypeCount

TOP_HASHTAGS = 10
COUNTED = ("links", "mentions", "hashtags", "forwards", "replies")


async def top_hashtags(db: Database, chat_id: int, period: Period) -> list[TagCount]:
    """The TOP_HASHTAGS hashtags written most in the period (ties: alphabetical)."""
    daily = CHAT_HASHTAGS_DAILY.c
    count = func.sum(daily.count)
    statement = (
        select(daily.tag, count.label("count"))
        .where(daily.chat_id == chat_id, daily.day.between(period.start, period.end))
        .group_by(daily.tag)
        .having(count > 0)
        .order_by(count.desc(), daily.tag)
        .limit(TOP_HASHTAGS)
    )
    return [TagCount.model_validate(row) for row in await fetch_all(db, statement)]


async def content_breakdown(db: Database, chat_id: int, period: Period) -> ContentBreakdown:
    """Messages of chat ``chat_id`` sent in ``period`` by type, with entity, forward and reply
    totals (see :class:`ContentBreakdown`)."""
    daily = CHAT_CONTENT_DAILY.c
    messages = func.sum(daily.messages)
    statement = (
        select(
            daily.message_type,
            messages.label("messages"),
            *(func.sum(daily[name]).label(name) for name in COUNTED),
        )
        .where(daily.chat_id == chat_id, daily.day.between(period.start, period.end))
        .group_by(daily.message_type)
        .having(messages > 0)
        .order_by(messages.desc(), daily.message_type)
    )
    rows = await fetch_all(db, statement)
    stored = await stores_text(db, chat_id)
    totals = {
        name: sum(int(row[name]) for row in rows)
        for name in ("messages", "links", "mentions", "hashtags", "forwards", "replies")
    }
    return ContentBreakdown(
        chat_id=chat_id,
        start=period.start,
        end=period.end,
        by_type=[TypeCount.model_validate(row) for row in rows],
        text_stored=stored,
        top_hashtags=await top_hashtags(db, chat_id, period) if stored else None,
        **totals,
    )
