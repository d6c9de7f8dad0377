"""Dashboard test fixtures: the sample chats and the group_chat conversation in this run's
database, the app on real NATS and PostgreSQL (lifespan run), clients with and without the
admin token, the last settings event of a chat in CHAT_EVENTS."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import nats
import pytest
from fastapi import FastAPI
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.chatstore.tables import CHAT_TABLES
from tally.chatstore.write.writer import ChatWriter
from tally.contracts.chat_events import CHAT_EVENT, ChatEvent, SettingsChanged
from tally.contracts.subjects import Subjects
from tally.dashboard.app import create_app
from tally.dashboard.config import DashboardSettings
from tally.infra.db.session import create_engine
from tally.infra.settings import CommonSettings
from tests.factories.group_chat import ELSEWHERE, GROUP, USER_IDS, elsewhere_events, group_events
from tests.factories.reference import ReferenceSql
from tests.factories.sample_chats import SampleChats, remove_sample_chats, write_sample_chats

TOKEN = "dashboard-test-token-0123456789"
LINK_SECRET = "dashboard-test-link-secret-0123456789-abcdef"
GROUP_CHATS = {GROUP: "Europe/Berlin", ELSEWHERE: "UTC"}
"""The group_chat factory's chats and their time zones."""


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on this run's database (as its owner), for writing rows and checking them."""
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def sample(engine: AsyncEngine) -> AsyncIterator[SampleChats]:
    """The sample chats, written for one test module and removed afterwards."""
    async with engine.begin() as connection:
        written = await write_sample_chats(connection, now=datetime.now(UTC))
    yield written
    await remove_sample_chats(engine, written)


@pytest.fixture(scope="module")
async def conversation(engine: AsyncEngine) -> AsyncIterator[dict[int, list[ChatEvent]]]:
    """Both chats of the factory written through ChatWriter, removed afterwards."""
    events = {GROUP: group_events(), ELSEWHERE: elsewhere_events()}
    writer = ChatWriter(engine)
    for chat_events in events.values():
        await writer.write(chat_events[:1])  # the settings first
        await writer.write(chat_events[1:])
    yield events
    async with engine.begin() as connection:
        for table in CHAT_TABLES:
            if "chat_id" in table.c:
                await connection.execute(
                    table.delete().where(table.c.chat_id.in_(list(GROUP_CHATS)))
                )
        await connection.execute(
            text("DELETE FROM users WHERE user_id = ANY(:ids)"), {"ids": USER_IDS}
        )


@pytest.fixture(scope="session")
def dashboard_settings(settings: CommonSettings) -> DashboardSettings:
    return DashboardSettings(
        **settings.model_dump(), admin_api_token=TOKEN, dashboard_link_secret=LINK_SECRET
    )


@pytest.fixture(scope="session")
async def app(dashboard_settings: DashboardSettings, streams: None) -> AsyncIterator[FastAPI]:
    """The dashboard app, started (streams declared, broker connected) for the session."""
    app = create_app(dashboard_settings)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def anonymous(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client from the loopback address that sends no token."""
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://dashboard") as client:
        yield client


@pytest.fixture
async def client(
    anonymous: httpx.AsyncClient, sample: SampleChats
) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sends the right token, with the sample chats in place."""
    anonymous.headers["X-Admin-Token"] = TOKEN
    yield anonymous


@pytest.fixture(scope="session")
def sql(engine: AsyncEngine) -> ReferenceSql:
    return ReferenceSql(engine)


@pytest.fixture
async def js(settings: CommonSettings) -> AsyncIterator[JetStreamContext]:
    connection = await nats.connect(settings.nats_url)
    yield connection.jetstream()
    await connection.close()


async def last_settings_event(
    js: JetStreamContext, subjects: Subjects, chat_id: int
) -> tuple[SettingsChanged, dict[str, str]] | None:
    """The last SettingsChanged for ``chat_id`` in CHAT_EVENTS and its headers, if any."""
    try:
        message = await js.get_last_msg(
            subjects.chat_events_stream, subjects.chat_event(chat_id, "settings")
        )
    except NotFoundError:
        return None
    event = CHAT_EVENT.validate_json(message.data or b"")
    assert isinstance(event, SettingsChanged)
    return event, dict(message.headers or {})
