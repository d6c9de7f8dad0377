"""Chat settings: read from the chats table; a change goes to ingest as a chat event."""

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from nats.js import JetStreamContext

from tally.contracts.subjects import Subjects
from tests.factories.reference import ReferenceSql
from tests.factories.sample_chats import BERLIN, KOLKATA, SampleChats

from .conftest import last_settings_event


async def test_settings_are_read_from_the_chat(
    client: httpx.AsyncClient, sql: ReferenceSql, sample: SampleChats
) -> None:
    """GET returns the chat's stored zone, text storage and retention."""
    reply = await client.get(f"/api/chats/{BERLIN}/settings")
    assert reply.status_code == 200
    assert reply.json() == {
        "version": 1,
        "timezone": "Europe/Berlin",
        "store_text": False,
        "retention_days": sample.berlin_retention_days,
    }


async def test_a_change_is_published_to_the_chat_events_stream(
    client: httpx.AsyncClient, js: JetStreamContext, subjects: Subjects
) -> None:
    """PUT answers 202 with the settings and puts a SettingsChanged for the chat on
    ``{p}.chats.{id}.settings`` in CHAT_EVENTS, its event id as Nats-Msg-Id; the chats table
    is left to ingest."""
    wanted = {"timezone": "America/Sao_Paulo", "store_text": True, "retention_days": 90}
    reply = await client.put(f"/api/chats/{KOLKATA}/settings", json=wanted)
    assert reply.status_code == 202, reply.text
    assert reply.json() == {"version": 1, **wanted}
    found = await last_settings_event(js, subjects, KOLKATA)
    assert found is not None
    event, headers = found
    assert (event.chat_id, event.chat_title, event.chat_type) == (
        KOLKATA,
        "Kolkata group",
        "supergroup",
    )
    assert event.settings.model_dump() == {"version": 1, **wanted}
    assert headers["Nats-Msg-Id"] == event.event_id
    assert datetime.now(UTC) - event.occurred_at < timedelta(minutes=1)
    stored = await client.get(f"/api/chats/{KOLKATA}/settings")
    assert stored.json()["timezone"] == "Asia/Kolkata"


@pytest.mark.parametrize(
    "body",
    [
        {"timezone": "Mars/Olympus_Mons"},
        {"timezone": "../../etc/passwd"},
        {"timezone": "Europe/Berlin", "retention_days": 0},
        {"timezone": "Europe/Berlin", "colour": "blue"},
    ],
)
async def test_invalid_settings_are_refused_and_not_published(
    client: httpx.AsyncClient, js: JetStreamContext, subjects: Subjects, body: dict[str, object]
) -> None:
    """An unknown time zone, a retention of 0 days or an unknown field is a 422, and no
    event is published."""
    before = await last_settings_event(js, subjects, BERLIN)
    reply = await client.put(f"/api/chats/{BERLIN}/settings", json=body)
    assert reply.status_code == 422
    assert await last_settings_event(js, subjects, BERLIN) == before


async def test_an_unknown_chat_has_no_settings(client: httpx.AsyncClient) -> None:
    """GET and PUT on a chat Tally has not seen answer 404."""
    assert (await client.get("/api/chats/-42/settings")).status_code == 404
    put = await client.put("/api/chats/-42/settings", json={"timezone": "UTC"})
    assert put.status_code == 404
    assert put.json() == {"detail": "No chat -42."}
