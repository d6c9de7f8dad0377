"""What the routes need, as ``Annotated`` dependencies: the database, the chat, the period."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import asyncpg
from fastapi import Depends, HTTPException, Path, Query, Request, status
from faststream.nats import NatsBroker
from prometheus_client import CollectorRegistry

from tally.chatstore import read as chat_stats
from tally.chatstore.read import ChatInfo, Period
from tally.contracts.subjects import Subjects
from tally.dashboard.config import DashboardSettings
from tally.infra.db.reader import Reader

DEFAULT_DAYS = 30
"""A period given neither ``from`` nor ``to``: the last 30 local days, today included."""


@dataclass(frozen=True, slots=True)
class Services:
    """What the app holds for its routes (``app.state.services``)."""

    settings: DashboardSettings
    reader: Reader
    broker: NatsBroker
    subjects: Subjects
    registry: CollectorRegistry


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(_services)]


async def _database(services: ServicesDep) -> asyncpg.Pool:
    return await services.reader.pool()


DatabaseDep = Annotated[asyncpg.Pool, Depends(_database)]


async def _chat(
    chat_id: Annotated[
        int,
        Path(description="Telegram chat id (negative for groups)", ge=-(2**63), le=2**63 - 1),
    ],
    db: DatabaseDep,
) -> ChatInfo:
    chat = await chat_stats.get_chat(db, chat_id)
    if chat is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No chat {chat_id}.")
    return chat


ChatDep = Annotated[ChatInfo, Depends(_chat)]


def _period(
    chat: ChatDep,
    start: Annotated[
        date | None, Query(alias="from", description="first local day (default: to - 29)")
    ] = None,
    end: Annotated[
        date | None, Query(alias="to", description="last local day (default: today)")
    ] = None,
) -> Period:
    tz = chat_stats.zone(chat.settings.timezone)
    end = end or datetime.now(UTC).astimezone(tz).date()
    return Period(start or end - timedelta(days=DEFAULT_DAYS - 1), end, tz)


PeriodDep = Annotated[Period, Depends(_period)]
