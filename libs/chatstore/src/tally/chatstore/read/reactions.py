"""Reactions standing on the messages sent in a period: the most used, the most reacted
messages, and who received and gave most. How the two reaction tables combine is on
:class:`~tally.chatstore.read.models.ReactionStats`; ingest keeps the combination per
message in ``message_reaction_totals`` and per local day of the message in
``reaction_emoji_daily`` and ``user_reactions_daily``."""

from functools import partial

from sqlalchemy import func, select, true

from tally.chatstore.read.bound import CHAT, DAYS, END, LIMIT, START
from tally.chatstore.read.connection import Database, Statement, fetch_all, together
from tally.chatstore.read.conversation import member, with_names
from tally.chatstore.read.monthly import COVERED, cover_days, covered_sums
from tally.chatstore.read.periods import Period
from tally.chatstore.read.rankings import check_limit, counts, top_statement
from tally.chatstore.tables import (
    MESSAGE_REACTION_TOTALS,
    REACTION_EMOJI_DAILY,
    USER_REACTIONS_DAILY,
    USER_REACTIONS_MONTHLY,
)
from tally.contracts.group_reports import (
    EmojiCount,
    MemberCount,
    MessageReactions,
    ReactionStats,
)


def _build_emoji() -> Statement:
    """Rows ``(emoji, count)``: every emoji standing on the messages of local days
    :data:`START`..:data:`END`, most used first (ties: by emoji)."""
    daily = REACTION_EMOJI_DAILY.c
    counted = (
        select(daily.emoji, func.sum(daily.count).label("count"))
        .where(daily.chat_id == CHAT, daily.day.between(START, END))
        .group_by(daily.emoji)
        .subquery("per_emoji")
    )
    return (
        select(counted.c.emoji, counted.c.count)
        .where(counted.c.count > 0)
        .order_by(counted.c.count.desc(), counted.c.emoji)
    )


def _build_top_messages() -> Statement:
    """Rows ``(message_id, sent_at, author_id, reactions, <author's names>)``: the
    :data:`LIMIT` most reacted messages of the local days :data:`DAYS`, found among the
    ``limit`` most reacted of each day (``ix_message_reaction_totals_day_cover``), the top
    taken before the authors' names are joined (joined first, each day's candidates looked up
    a name: 316 of the 900 cold ``users`` probes took 8 of the statement's 9 ms at 1M)."""
    totals = MESSAGE_REACTION_TOTALS.c
    days = select(func.unnest(DAYS).label("day")).subquery("days")
    per_day = (
        select(totals.message_id, totals.sent_at, totals.author_id, totals.reactions)
        .where(totals.chat_id == CHAT, totals.day == days.c.day)
        .order_by(totals.reactions.desc(), totals.message_id)
        .limit(LIMIT)
        .lateral("per_day")
    )
    found = select(per_day).select_from(days.join(per_day, true())).subquery("most_reacted")
    top = (
        select(found)
        .order_by(found.c.reactions.desc(), found.c.message_id)
        .limit(LIMIT)
        .subquery("top")
    )
    joined, names = with_names(top, top.c.author_id, "author_id")
    return (
        select(top, *names).select_from(joined).order_by(top.c.reactions.desc(), top.c.message_id)
    )


def _build_ranked(column: str) -> Statement:
    """:func:`top_statement` of the members' ``received`` or ``given`` reactions (``column``)
    over the period (:data:`~tally.chatstore.read.monthly.COVERED`)."""
    sums = covered_sums(
        USER_REACTIONS_DAILY, USER_REACTIONS_MONTHLY, (column,), COVERED, chat_id=CHAT
    )
    values = select(sums.c.user_id, sums.c[column].label("value")).subquery(column)
    return top_statement(values, LIMIT)


EMOJI = _build_emoji()
TOP_MESSAGES = _build_top_messages()
RANKED = {column: _build_ranked(column) for column in ("received", "given")}


async def _emoji(db: Database, values: dict[str, object]) -> list[EmojiCount]:
    return [EmojiCount.model_validate(row) for row in await fetch_all(db, EMOJI, values)]


async def _top_messages(db: Database, values: dict[str, object]) -> list[MessageReactions]:
    return [
        MessageReactions(
            message_id=row["message_id"],
            sent_at=row["sent_at"],
            author=member(row, "author_id") if row["author_id"] is not None else None,
            reactions=int(row["reactions"]),
        )
        for row in await fetch_all(db, TOP_MESSAGES, values)
    ]


async def _ranked(db: Database, column: str, values: dict[str, object]) -> list[MemberCount]:
    return counts(await fetch_all(db, RANKED[column], values))


async def reaction_stats(
    db: Database, chat_id: int, period: Period, limit: int = 10
) -> ReactionStats:
    """Reactions on the messages of chat ``chat_id`` sent in ``period``: the total, and the
    ``limit`` most used emoji, most reacted messages, members who received most and members
    who gave most (ties: by emoji, message id, user id); the four statements, built once
    (:mod:`tally.chatstore.read.bound`), run at the same time on a pool (:func:`together`).
    Raises StatsRequestError for a limit outside 1..MAX_TOP."""
    check_limit(limit)
    values: dict[str, object] = {
        "chat_id": chat_id,
        "start": period.start,
        "end": period.end,
        "days": period.each_day(),
        "limit": limit,
        **cover_days(period),
    }
    emoji, top_messages, received, given = await together(
        db,
        partial(_emoji, db, values),
        partial(_top_messages, db, values),
        partial(_ranked, db, "received", values),
        partial(_ranked, db, "given", values),
    )
    return ReactionStats(
        chat_id=chat_id,
        start=period.start,
        end=period.end,
        total=sum(item.count for item in emoji),
        top_emoji=emoji[:limit],
        top_messages=top_messages,
        received=received,
        given=given,
    )
