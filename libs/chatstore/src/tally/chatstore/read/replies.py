"""Who replies to whom, how fast, and how much of the talk is replies (replies sent in the
period): pairs from ``reply_pairs_daily``, message and reply counts from
``chat_content_daily``, the median delay from the period's replies (``reply_delay_s``, which
ingest stored with each reply whose original it found)."""

from functools import partial

from sqlalchemy import func, select

from tally.chatstore.read.connection import Database, fetch_all, fetch_one, together
from tally.chatstore.read.conversation import member, reply_delays, reply_pairs, with_names
from tally.chatstore.read.periods import Period
from tally.chatstore.read.rankings import check_limit
from tally.chatstore.tables import CHAT_CONTENT_DAILY
from tally.contracts.group_reports import ReplyPair, ReplyStats


async def _pairs(db: Database, chat_id: int, period: Period, limit: int) -> list[ReplyPair]:
    """The ``limit`` busiest pairs, named: the top is taken before the names are joined, so
    only ``limit`` pairs (not every pair of the period) meet ``users``."""
    pairs = reply_pairs(chat_id, period)
    found = (
        select(pairs)
        .where(pairs.c.replier_id.is_not(None))
        .order_by(pairs.c.replies.desc(), pairs.c.replier_id, pairs.c.author_id)
        .limit(limit)
        .subquery("top_pairs")
    )
    joined, replier = with_names(found, found.c.replier_id, "replier_id")
    joined, author = with_names(joined, found.c.author_id, "author_id")
    statement = (
        select(found.c.replier_id, found.c.author_id, found.c.replies, *replier, *author)
        .select_from(joined)
        .order_by(found.c.replies.desc(), found.c.replier_id, found.c.author_id)
    )
    return [
        ReplyPair(
            replier=member(row, "replier_id"),
            replied_to=member(row, "author_id"),
            replies=int(row["replies"]),
        )
        for row in await fetch_all(db, statement)
    ]


async def reply_stats(db: Database, chat_id: int, period: Period, limit: int = 10) -> ReplyStats:
    """Replies in chat ``chat_id`` sent in ``period`` (see :class:`ReplyStats`): the ``limit``
    busiest pairs (ties by replier then replied-to id), the median delay
    (``percentile_cont(0.5)``), the share of messages that are replies; the three statements
    run at the same time on a pool (:func:`together`). Raises StatsRequestError for a limit
    outside 1..MAX_TOP."""
    check_limit(limit)
    daily = CHAT_CONTENT_DAILY.c
    counts = select(
        func.coalesce(func.sum(daily.messages), 0).label("messages"),
        func.coalesce(func.sum(daily.replies), 0).label("replies"),
    ).where(daily.chat_id == chat_id, daily.day.between(period.start, period.end))
    found = reply_delays(chat_id, period)
    median = select(func.percentile_cont(0.5).within_group(found.c.delay).label("median"))
    row, delay, pairs = await together(
        db,
        partial(fetch_one, db, counts),
        partial(fetch_one, db, median),
        partial(_pairs, db, chat_id, period, limit),
    )
    assert row is not None and delay is not None  # aggregate-only SELECTs have one row
    messages, replied = int(row["messages"]), int(row["replies"])
    return ReplyStats(
        chat_id=chat_id,
        start=period.start,
        end=period.end,
        messages=messages,
        replies=replied,
        reply_share=round(replied / messages, 4) if messages else 0.0,
        median_delay_seconds=delay["median"],
        top_pairs=pairs,
    )
