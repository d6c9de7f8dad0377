"""What a chat posted in a period: messages by type, links, mentions, hashtags, forwards and
replies, from ``chat_content_daily`` (local days of the chat's zone); the top hashtags only
when the chat stores text (parsed from ``text`` through ``ix_messages_chat_sent``, and only of
messages Telegram marked as having one)."""

import re
from collections import Counter

from sqlalchemy import func, select

from tally.chatstore.read.connection import Database, fetch_all
from tally.chatstore.read.conversation import sent_in, stores_text
from tally.chatstore.read.models import ContentBreakdown, TagCount, TypeCount
from tally.chatstore.read.periods import Period
from tally.chatstore.tables import CHAT_CONTENT_DAILY, MESSAGES

TOP_HASHTAGS = 10
COUNTED = ("links", "mentions", "hashtags", "forwards", "replies")
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
