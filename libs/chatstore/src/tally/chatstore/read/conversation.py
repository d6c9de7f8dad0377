"""Statements the group reports share: the messages of a period, the replies among them, and
member names.

Every statement is scoped to one chat and one period. Messages are found by
``ix_messages_chat_sent`` (``chat_id, sent_at``). The message a reply answers is looked up
by ingest when it stores the reply (its author and the delay are on the reply's row, the
pairs in ``reply_pairs_daily``), so no statement here joins a reply to its original.
"""

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Subquery,
    func,
    select,
)
from sqlalchemy.sql import FromClause

from tally.chatstore.read.connection import Database, fetch_one
from tally.chatstore.read.periods import Period
from tally.chatstore.tables import (
    CHATS,
    REPLY_PAIRS_DAILY,
    USERS,
    Row,
)
from tally.contracts.group_reports import Member

ANONYMOUS = 0
"""``reply_pairs_daily.user_id`` of replies without a sender."""


def sent_in(messages: FromClause, chat_id: int, period: Period) -> list[ColumnElement[bool]]:
    """``messages`` (the table or an alias) of chat ``chat_id`` sent within ``period``."""
    return [
        messages.c.chat_id == chat_id,
        messages.c.sent_at >= period.utc_start,
        messages.c.sent_at < period.utc_end,
    ]


def reply_pairs(
    chat_id: int, period: Period, *, replier: int | None = None, author: int | None = None
) -> Subquery:
    """Rows ``(replier_id, author_id, replies)`` from ``reply_pairs_daily``: replies sent in
    ``period`` by each replier (None: anonymous) to each author, whose original ingest found
    when it stored the reply; self-replies and replies to anonymous messages left out. Only
    those of ``replier`` or to ``author`` when given."""
    daily = REPLY_PAIRS_DAILY.c
    wanted = [daily.chat_id == chat_id, daily.day.between(period.start, period.end)]
    if replier is not None:
        wanted.append(daily.user_id == replier)
    if author is not None:
        wanted.append(daily.replied_user_id == author)
    return (
        select(
            func.nullif(daily.user_id, ANONYMOUS).label("replier_id"),
            daily.replied_user_id.label("author_id"),
            func.sum(daily.replies).label("replies"),
        )
        .where(*wanted)
        .group_by(daily.user_id, daily.replied_user_id)
        .having(func.sum(daily.replies) > 0)
        .subquery("pairs")
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
