"""A chat's statistics over a period of local days (``from``..``to``, inclusive)."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query

from tally.chatstore import read as chat_stats
from tally.chatstore.read import (
    MAX_PAGE_SIZE,
    MAX_WEEKS,
    Bucket,
    Heatmap,
    Retention,
    RetentionPreview,
    SeriesMetric,
    SortOrder,
    Summary,
    Timeseries,
    UserSort,
    UsersPage,
    UsersQuery,
)
from tally.dashboard.deps import ChatDep, DatabaseDep, PeriodDep

router = APIRouter(prefix="/api/chats/{chat_id}", tags=["statistics"])


@router.get("/summary")
async def summary(chat: ChatDep, period: PeriodDep, db: DatabaseDep) -> Summary:
    """Messages, active users, DAU, WAU, MAU, new and left members, each beside the previous
    period of equal length."""
    return await chat_stats.summary(db, chat_id=chat.chat_id, period=period)


@router.get("/timeseries")
async def timeseries(
    chat: ChatDep,
    period: PeriodDep,
    db: DatabaseDep,
    metric: SeriesMetric = "messages",
    bucket: Bucket = "day",
) -> Timeseries:
    """Every bucket of the period in the chat's zone: messages, DAU (day or week) or member
    changes (joins, leaves and their difference)."""
    return await chat_stats.timeseries(
        db, chat_id=chat.chat_id, period=period, metric=metric, bucket=bucket
    )


@router.get("/heatmap")
async def heatmap(chat: ChatDep, period: PeriodDep, db: DatabaseDep) -> Heatmap:
    """Messages by local weekday (Monday first) and local hour."""
    return await chat_stats.heatmap(db, chat_id=chat.chat_id, period=period)


@router.get("/users")
async def users(
    chat: ChatDep,
    period: PeriodDep,
    db: DatabaseDep,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    search: Annotated[
        str | None, Query(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
    ] = None,
    sort: UserSort = "messages",
    order: SortOrder = "desc",
) -> UsersPage:
    """The users who posted in the period, a page at a time; ``search`` (no control
    characters: PostgreSQL text cannot hold NUL) matches username or name; sorted by ``sort``
    then user id."""
    query = UsersQuery(page=page, size=size, search=search, sort=sort, order=order)
    return await chat_stats.users(db, chat_id=chat.chat_id, period=period, query=query)


@router.get("/retention")
async def retention(
    chat: ChatDep,
    period: PeriodDep,
    db: DatabaseDep,
    weeks: Annotated[int, Query(ge=0, le=MAX_WEEKS)] = 8,
) -> Retention:
    """Weekly cohorts (first joined or posted in week W) and the share that posted in each
    of weeks W..W+weeks."""
    return await chat_stats.retention(db, chat_id=chat.chat_id, period=period, weeks=weeks)


@router.get("/retention/preview")
async def retention_preview(
    chat: ChatDep,
    db: DatabaseDep,
    days: Annotated[
        int | None, Query(ge=1, le=36_500, description="a proposed retention_days")
    ] = None,
) -> RetentionPreview:
    """What applying the chat's retention_days now would delete (counts of raw rows), or,
    given ``days``, what a change to that many days would delete. Deletes nothing."""
    if days is not None:
        settings = chat.settings.model_copy(update={"retention_days": days})
        chat = chat.model_copy(update={"settings": settings})
    return await chat_stats.retention_preview(db, chat=chat, now=datetime.now(UTC))
