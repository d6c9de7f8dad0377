"""What a chat posted in a period: messages by type, links, mentions, hashtags, forwards and
replies, from ``messages`` (``ix_messages_chat_sent``); the top hashtags only when the chat
stores text (parsed from ``text``, and only of messages Telegram marked as having one)."""

import re
from collections import Counter

from sqlalchemy import func, select

from tally.chatstore.read.connection import Database, fetch_all
from tally.chatstore.read.conversation import sent_in, stores_text
from tally.chatstore.read.periods import Period
from tally.chatstore.tables import MESSAGES
from tally.contracts.group_reports import ContentBreakdown, TagCount, TypeCount

TOP_HASHTAGS = 10
HASHTAG = re.compile(r"(?<![\w#])#(\w+)")
"""A hashtag as Telegram marks one: ``#`` then letters, digits or ``_``, not inside a word."""


def hashtags_in(text: str) -> list[str]:
    """The hashtags of ``text``, lower case, without ``#``, in order (repeats kept)."""
    return [tag.lower() for tag in HASHTAG.findall(text) if not tag.isdigit()]


async def top_hashtags(db: Database, chat_id: int, period: Period) -> list[TagCount]:
    """The TOP_HASHTAGS hashtags written most in the period (ties: alphabetical)."""
    m = MESSAGES.c
    statement = select(m.text).where(
        *sent_in(MESSAGES, chat_id, period), m.hashtags > 0, m.text.is_not(None)
    )
    counts = Counter(
        tag for row in await fetch_all(db, statement) for tag in hashtags_in(row["text"])
    )
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:TOP_HASHTAGS]
    return [TagCount(tag=tag, count=count) for tag, count in ranked]


async def content_breakdown(db: Database, chat_id: int, period: Period) -> ContentBreakdown:
    """Messages of chat ``chat_id`` sent in ``period`` by type, with entity, forward and reply
    totals (see :class:`ContentBreakdown`)."""
    m = MESSAGES.c
    statement = (
        select(
            m.message_type,
            func.count().label("messages"),
            func.sum(m.links).label("links"),
            func.sum(m.mentions).label("mentions"),
            func.sum(m.hashtags).label("hashtags"),
            func.count().filter(m.forwarded).label("forwards"),
            func.count(m.reply_to_message_id).label("replies"),
        )
        .where(*sent_in(MESSAGES, chat_id, period))
        .group_by(m.message_type)
        .order_by(func.count().desc(), m.message_type)
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
