"""Reactions standing on the messages sent in a period: the most used, the most reacted
messages, and who received and gave most. How the two reaction tables combine is on
:class:`~tally.chatstore.read.models.ReactionStats`; ingest keeps the combination per
message in ``message_reaction_totals`` and per local day of the message in
``reaction_emoji_daily`` and ``user_reactions_daily``."""

from sqlalchemy import func, select, true
from sqlalchemy.sql import FromClause

from tally.chatstore.read.bound import CHAT, DAYS, END, LIMIT, START
from tally.chatstore.read.connection import Database, Statement, fetch_one
from tally.chatstore.read.conversation import member, with_names
from tally.chatstore.read.fragments import listed, unlisted
from tally.chatstore.read.monthly import COVERED, cover_values, covered_sums
from tally.chatstore.read.periods import Period
from tally.chatstore.read.rankings import check_limit, counts, top_statement
from tally.chatstore.tables import (
    MESSAGE_REACTION_TOTALS,
    REACTION_EMOJI_DAILY,
    USER_REACTIONS_DAILY,
    USER_REACTIONS_MONTHLY,
    Row,
)
from tally.contracts.group_reports import (
    EmojiCount,
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


def _build_report() -> Statement:
    """One row: the emoji (``emoji_…`` arrays), the most reacted messages (``top_…``), the
    members who received and who gave most (``received_…``, ``given_…``), built once with
    bound parameters (:mod:`tally.chatstore.read.bound`): one round trip."""
    emoji = _build_emoji().subquery("emoji")
    top = _build_top_messages().subquery("most_reacted_top")
    lists = [
        listed(emoji, "emoji_", (emoji.c["count"].desc(), emoji.c.emoji)),
        listed(top, "top_", (top.c.reactions.desc(), top.c.message_id)),
    ]
    for column in ("received", "given"):
        rows = _build_ranked(column).subquery(column)
        lists.append(listed(rows, f"{column}_", (rows.c.value.desc(), rows.c.user_id)))
    joined: FromClause = lists[0]
    for other in lists[1:]:
        joined = joined.join(other, true())  # one row each
    return select(*(column for rows in lists for column in rows.c)).select_from(joined)


REPORT = _build_report()
EMOJI_COLUMNS = ("emoji", "count")
NAMES = ("username", "first_name", "last_name")
TOP_COLUMNS = (
    "message_id",
    "sent_at",
    "author_id",
    "reactions",
    *(f"author_id_{n}" for n in NAMES),
)
RANKED_COLUMNS = ("user_id", "value", *(f"user_id_{n}" for n in NAMES))


def _top_messages(row: Row) -> list[MessageReactions]:
    return [
        MessageReactions(
            message_id=one["message_id"],
            sent_at=one["sent_at"],
            author=member(one, "author_id") if one["author_id"] is not None else None,
            reactions=int(one["reactions"]),
        )
        for one in unlisted(row, "top_", TOP_COLUMNS)
    ]


async def reaction_stats(
    db: Database, chat_id: int, period: Period, limit: int = 10
) -> ReactionStats:
    """Reactions on the messages of chat ``chat_id`` sent in ``period``: the total, and the
    ``limit`` most used emoji, most reacted messages, members who received most and members
    who gave most (ties: by emoji, message id, user id), in one statement built once
    (:func:`_build_report`). Raises StatsRequestError for a limit outside 1..MAX_TOP."""
    check_limit(limit)
    values: dict[str, object] = {
        "chat_id": chat_id,
        "start": period.start,
        "end": period.end,
        "days": period.each_day(),
        "limit": limit,
        **cover_values(period),
    }
    row = await fetch_one(db, REPORT, values)
    assert row is not None  # a SELECT from one-row subqueries has one row
    emoji = [EmojiCount.model_validate(one) for one in unlisted(row, "emoji_", EMOJI_COLUMNS)]
    return ReactionStats(
        chat_id=chat_id,
        start=period.start,
        end=period.end,
        total=sum(item.count for item in emoji),
        top_emoji=emoji[:limit],
        top_messages=_top_messages(row),
        received=counts(unlisted(row, "received_", RANKED_COLUMNS)),
        given=counts(unlisted(row, "given_", RANKED_COLUMNS)),
    )
