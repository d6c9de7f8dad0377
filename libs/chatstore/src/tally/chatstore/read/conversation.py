"""Statements the group reports share: the messages of a period, the replies among them, the
reactions standing on them, and member names.

Every statement is scoped to one chat and one period. Messages are found by
``ix_messages_chat_sent`` (``chat_id, sent_at``); the message a reply answers, and a
message's reactions and reaction totals, by their primary keys (``chat_id, message_id, …``).
A reply's original is looked up no later than the reply (a reply never precedes its
message), which lets PostgreSQL skip later partitions of ``messages``.
"""

from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Float,
    Subquery,
    and_,
    cast,
    func,
    select,
    union_all,
)
from sqlalchemy.sql import FromClause

from tally.chatstore.read.connection import Database, fetch_one
from tally.chatstore.read.periods import Period
from tally.chatstore.tables import CHATS, MESSAGES, REACTION_COUNTS, REACTIONS, USERS, Row
from tally.contracts.group_reports import Member


def sent_in(messages: FromClause, chat_id: int, period: Period) -> list[ColumnElement[bool]]:
    """``messages`` (the table or an alias) of chat ``chat_id`` sent within ``period``."""
    return [
        messages.c.chat_id == chat_id,
        messages.c.sent_at >= period.utc_start,
        messages.c.sent_at < period.utc_end,
    ]


def replies(chat_id: int, period: Period) -> Subquery:
    """Rows ``(replier_id, author_id, delay)`` of the replies sent in ``period`` whose original
    is stored: who replied, who wrote the original (either None when anonymous) and the
    delay in seconds (>= 0)."""
    reply, original = MESSAGES.alias("reply"), MESSAGES.alias("original")
    found = and_(
        original.c.chat_id == chat_id,
        original.c.message_id == reply.c.reply_to_message_id,
        original.c.sent_at <= reply.c.sent_at,
    )
    delay = func.extract("epoch", reply.c.sent_at - original.c.sent_at)
    return (
        select(
            reply.c.user_id.label("replier_id"),
            original.c.user_id.label("author_id"),
            cast(delay, Float).label("delay"),
        )
        .select_from(reply.join(original, found))
        .where(*sent_in(reply, chat_id, period), reply.c.reply_to_message_id.is_not(None))
        .subquery("replies")
    )


def sent_messages(chat_id: int, period: Period) -> CTE:
    """``(message_id, sent_at, user_id)`` of every message sent in ``period``."""
    m = MESSAGES.c
    return (
        select(m.message_id, m.sent_at, m.user_id)
        .where(*sent_in(MESSAGES, chat_id, period))
        .cte("sent")
    )


def named_reactions(chat_id: int, sent: CTE) -> Subquery:
    """Rows ``(message_id, reactor_id, emoji)``: the named reactions on ``sent`` messages."""
    r = REACTIONS.c
    on = and_(r.chat_id == chat_id, r.message_id == sent.c.message_id)
    return (
        select(r.message_id, r.user_id.label("reactor_id"), r.emoji)
        .select_from(sent.join(REACTIONS, on))
        .subquery("named")
    )


def message_reactions(chat_id: int, sent: CTE) -> Subquery:
    """Rows ``(message_id, sent_at, author_id, emoji, count)``: per ``sent`` message and emoji,
    the larger of its named reactions and its anonymous total (see
    :class:`~tally.chatstore.read.models.ReactionStats`)."""
    r, totals = REACTIONS.c, REACTION_COUNTS.c
    keys: list[Any] = [sent.c.message_id, sent.c.sent_at, sent.c.user_id]
    named = (
        select(*keys, r.emoji, func.count().label("n"))
        .select_from(sent.join(REACTIONS, and_(r.chat_id == chat_id, r.message_id == keys[0])))
        .group_by(*keys, r.emoji)
    )
    on = and_(totals.chat_id == chat_id, totals.message_id == keys[0])
    anonymous = select(*keys, totals.emoji, totals.count.label("n")).select_from(
        sent.join(REACTION_COUNTS, on)
    )
    both = union_all(named, anonymous).subquery("both_kinds")
    return (
        select(
            both.c.message_id,
            both.c.sent_at,
            both.c.user_id.label("author_id"),
            both.c.emoji,
            func.max(both.c.n).label("count"),
        )
        .group_by(both.c.message_id, both.c.sent_at, both.c.user_id, both.c.emoji)
        .subquery("message_reactions")
    )


def with_names(
    source: FromClause, user_id: ColumnElement[Any], key: str
) -> tuple[FromClause, list[Any]]:
    """``source`` outer-joined to ``users`` on ``user_id``, and the name columns, labelled
    ``<key>_username``, ``<key>_first_name`` and ``<key>_last_name`` (see :func:`member`)."""
    names = USERS.alias(f"{key}_names")
    joined = source.outerjoin(names, names.c.user_id == user_id)
    return joined, [
        names.c.username.label(f"{key}_username"),
        names.c.first_name.label(f"{key}_first_name"),
        names.c.last_name.label(f"{key}_last_name"),
    ]


def label(user_id: int, username: str | None, first: str | None, last: str | None) -> str:
    """``@username``, else "first last", else ``id<user_id>``."""
    if username:
        return f"@{username}"
    return " ".join(part for part in (first, last) if part) or f"id{user_id}"


def member(row: Row, key: str) -> Member:
    """The member whose id is ``row[key]``, named by the ``<key>_username`` ... columns."""
    user_id = int(row[key])
    names = [row.get(f"{key}_{part}") for part in ("username", "first_name", "last_name")]
    return Member(
        user_id=user_id,
        username=names[0],
        first_name=names[1],
        last_name=names[2],
        label=label(user_id, *names),
    )


async def stores_text(db: Database, chat_id: int) -> bool:
    """True when chat ``chat_id`` keeps message text (``chats.store_text``; False when the
    chat is unknown)."""
    row = await fetch_one(db, select(CHATS.c.store_text).where(CHATS.c.chat_id == chat_id))
    return bool(row and row["store_text"])
