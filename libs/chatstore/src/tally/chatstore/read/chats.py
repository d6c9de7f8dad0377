"""Chats and their settings, and the chat list with each chat's last 30 days."""

from datetime import datetime

from sqlalchemy import Date, DateTime, bindparam, cast, distinct, func, select

from tally.chatstore.read.connection import Database, Statement, fetch_all, fetch_one
from tally.chatstore.read.models import ChatInfo, ChatOverview, PeriodTotals
from tally.chatstore.tables import CHAT_DAILY, CHATS, USER_CHAT_DAILY, Row
from tally.contracts.chat_events import ChatSettings

RECENT_DAYS = 30
"""The chat list's window: the last 30 local days, today included."""

_COLUMNS = (
    CHATS.c.chat_id,
    CHATS.c.chat_type,
    CHATS.c.title,
    CHATS.c.first_seen_at,
    CHATS.c.timezone,
    CHATS.c.store_text,
    CHATS.c.retention_days,
)


def chat_statement(chat_id: int) -> Statement:
    """One chat's row and settings."""
    return select(*_COLUMNS).where(CHATS.c.chat_id == chat_id)


def chats_statement(*, now: datetime) -> Statement:
    """Every chat with its messages and active users over the last RECENT_DAYS local days,
    ending with the day ``now`` falls on in that chat's own zone; busiest first, then by id."""
    at = bindparam("now", now, type_=DateTime(timezone=True))
    today = cast(func.timezone(CHATS.c.timezone, at), Date)
    first = today - (RECENT_DAYS - 1)
    daily, users = CHAT_DAILY.c, USER_CHAT_DAILY.c
    in_window = (daily.chat_id == CHATS.c.chat_id, daily.day.between(first, today))
    messages = select(func.coalesce(func.sum(daily.messages), 0)).where(*in_window)
    active = select(func.count(distinct(users.user_id))).where(
        users.chat_id == CHATS.c.chat_id, users.day.between(first, today), users.messages > 0
    )
    recent = messages.scalar_subquery().label("messages")
    return select(
        *_COLUMNS,
        first.label("start"),
        today.label("end"),
        recent,
        active.scalar_subquery().label("active_users"),
    ).order_by(recent.desc(), CHATS.c.chat_id)


def _info(row: Row) -> ChatInfo:
    settings = ChatSettings(
        timezone=row["timezone"], store_text=row["store_text"], retention_days=row["retention_days"]
    )
    return ChatInfo(
        chat_id=row["chat_id"],
        chat_type=row["chat_type"],
        title=row["title"],
        first_seen_at=row["first_seen_at"],
        settings=settings,
    )


async def get_chat(db: Database, chat_id: int) -> ChatInfo | None:
    """The chat ``chat_id`` with its settings, or None when Tally has not seen it."""
    row = await fetch_one(db, chat_statement(chat_id))
    return _info(row) if row else None


def _overview(row: Row) -> ChatOverview:
    totals = PeriodTotals(
        start=row["start"],
        end=row["end"],
        messages=row["messages"],
        active_users=row["active_users"],
    )
    return ChatOverview(**_info(row).model_dump(), last_30_days=totals)


async def list_chats(db: Database, *, now: datetime) -> list[ChatOverview]:
    """Every chat with its last 30 local days (see :func:`chats_statement`)."""
    return [_overview(row) for row in await fetch_all(db, chats_statement(now=now))]
