"""Reactions standing on the messages sent in a period: the most used, the most reacted
messages, and who received and gave most. How the two reaction tables combine is on
:class:`~tally.chatstore.read.models.ReactionStats`."""

from sqlalchemy import func, select

from tally.chatstore.read.connection import Database, fetch_all
from tally.chatstore.read.conversation import (
    member,
    message_reactions,
    named_reactions,
    sent_messages,
    with_names,
)
from tally.chatstore.read.periods import Period
from tally.chatstore.read.rankings import check_limit, ranked, reactions_received
from tally.contracts.group_reports import EmojiCount, MessageReactions, ReactionStats


async def _top_emoji(db: Database, chat_id: int, period: Period, limit: int) -> list[EmojiCount]:
    counted = message_reactions(chat_id, sent_messages(chat_id, period))
    total = func.sum(counted.c.count)
    statement = (
        select(counted.c.emoji, total.label("count"))
        .group_by(counted.c.emoji)
        .order_by(total.desc(), counted.c.emoji)
        .limit(limit)
    )
    return [EmojiCount.model_validate(row) for row in await fetch_all(db, statement)]


async def _top_messages(
    db: Database, chat_id: int, period: Period, limit: int
) -> list[MessageReactions]:
    counted = message_reactions(chat_id, sent_messages(chat_id, period))
    per_message = (
        select(
            counted.c.message_id,
            counted.c.sent_at,
            counted.c.author_id,
            func.sum(counted.c.count).label("reactions"),
        )
        .group_by(counted.c.message_id, counted.c.sent_at, counted.c.author_id)
        .subquery("per_message")
    )
    joined, names = with_names(per_message, per_message.c.author_id, "author_id")
    statement = (
        select(per_message, *names)
        .select_from(joined)
        .order_by(per_message.c.reactions.desc(), per_message.c.message_id)
        .limit(limit)
    )
    return [
        MessageReactions(
            message_id=row["message_id"],
            sent_at=row["sent_at"],
            author=member(row, "author_id") if row["author_id"] is not None else None,
            reactions=int(row["reactions"]),
        )
        for row in await fetch_all(db, statement)
    ]


async def _total(db: Database, chat_id: int, period: Period) -> int:
    counted = message_reactions(chat_id, sent_messages(chat_id, period))
    rows = await fetch_all(db, select(func.coalesce(func.sum(counted.c.count), 0).label("n")))
    return int(rows[0]["n"])


async def reaction_stats(
    db: Database, chat_id: int, period: Period, limit: int = 10
) -> ReactionStats:
    """Reactions on the messages of chat ``chat_id`` sent in ``period``: the total, and the
    ``limit`` most used emoji, most reacted messages, members who received most and members
    who gave most (ties: by emoji, message id, user id). Raises StatsRequestError for a
    limit outside 1..MAX_TOP."""
    check_limit(limit)
    named = named_reactions(chat_id, sent_messages(chat_id, period))
    given = (
        select(named.c.reactor_id.label("user_id"), func.count().label("value"))
        .group_by(named.c.reactor_id)
        .subquery("given")
    )
    return ReactionStats(
        chat_id=chat_id,
        start=period.start,
        end=period.end,
        total=await _total(db, chat_id, period),
        top_emoji=await _top_emoji(db, chat_id, period, limit),
        top_messages=await _top_messages(db, chat_id, period, limit),
        received=await ranked(db, reactions_received(chat_id, period), limit),
        given=await ranked(db, given, limit),
    )
