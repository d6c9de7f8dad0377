"""The chat list (the operator's only), each chat's details and its settings."""

from datetime import UTC, datetime

from fastapi import APIRouter, status
from pydantic import field_validator

from tally.chatstore import read as chat_stats
from tally.chatstore.read import ChatInfo, ChatOverview
from tally.contracts.chat_events import ChatSettings
from tally.contracts.dashboard_link import Grant
from tally.dashboard.auth import CallerDep
from tally.dashboard.deps import ChatDep, DatabaseDep, ServicesDep
from tally.dashboard.publishing import publish_settings, settings_changed

router = APIRouter(prefix="/api", tags=["chats"])


class SettingsUpdate(ChatSettings):
    """New settings for a chat; ``timezone`` must be an IANA name."""

    @field_validator("timezone")
    @classmethod
    def _iana(cls, value: str) -> str:
        if not chat_stats.is_timezone(value):
            raise ValueError(f"{value!r} is not an IANA time zone name (e.g. Europe/Berlin)")
        return value


@router.get("/chats")
async def list_chats(db: DatabaseDep) -> list[ChatOverview]:
    """Every chat, busiest first, with its messages and active users over its last 30 local
    days (today included)."""
    return await chat_stats.list_chats(db, now=datetime.now(UTC))


@router.get("/chats/{chat_id}")
async def get_chat(chat: ChatDep) -> ChatInfo:
    """The chat: its id, type, title, when Tally first saw it, and its settings."""
    return chat


@router.get("/chats/{chat_id}/settings")
async def get_settings(chat: ChatDep) -> ChatSettings:
    """The chat's settings as ingest last stored them."""
    return chat.settings


@router.put("/chats/{chat_id}/settings", status_code=status.HTTP_202_ACCEPTED)
async def put_settings(
    chat: ChatDep, update: SettingsUpdate, services: ServicesDep, caller: CallerDep
) -> ChatSettings:
    """Ask ingest to store new settings: a SettingsChanged event goes to the CHAT_EVENTS
    stream, naming the chat admin who sent it through a link (``changed_by``); 202 means
    JetStream has it, and GET shows it once ingest has written it."""
    settings = ChatSettings(**update.model_dump())
    changed_by = caller.user_id if isinstance(caller, Grant) else None
    event = settings_changed(chat, settings, now=datetime.now(UTC), changed_by=changed_by)
    await publish_settings(services.broker, services.subjects, event)
    return settings
