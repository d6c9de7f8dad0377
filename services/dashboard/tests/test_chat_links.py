"""Signed chat links: a link opens its chat's page and API (statistics, settings) for a
while and nothing else; the admin token still opens everything."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie

import httpx
import pytest
from nats.js import JetStreamContext

from tally.contracts.dashboard_link import page_url, sign
from tally.contracts.subjects import Subjects
from tally.dashboard.app import create_app
from tally.dashboard.auth import LINK_COOKIE, LINK_HEADER, LINKS_OFF, OTHER_CHAT
from tally.dashboard.config import DashboardSettings
from tally.infra.settings import CommonSettings
from tests.factories.reference import ReferenceSql
from tests.factories.sample_chats import BERLIN, KOLKATA, SampleChats

from .conftest import LINK_SECRET, TOKEN, last_settings_event

ADMIN = 91_001
CHAT_ROUTES = [
    "",
    "/settings",
    "/summary",
    "/timeseries",
    "/heatmap",
    "/users",
    "/retention",
    "/retention/preview",
    "/content",
    "/reactions",
    "/replies",
    "/topics",
    "/members/flow",
    "/members/1",
    "/words",
    "/top",
    "/top?by=reactions&limit=5",
]


def link(chat_id: int = BERLIN, *, minutes: float = 15, secret: str = LINK_SECRET) -> str:
    expires_at = datetime.now(UTC) + timedelta(minutes=minutes)
    return sign(chat_id, ADMIN, expires_at, secret)


@pytest.fixture
async def linked(
    anonymous: httpx.AsyncClient, sample: SampleChats
) -> AsyncIterator[httpx.AsyncClient]:
    """A client with no admin token and a good link for BERLIN in X-Chat-Link."""
    anonymous.headers[LINK_HEADER] = link()
    yield anonymous


@pytest.mark.parametrize("route", CHAT_ROUTES)
async def test_a_link_reads_its_chat(linked: httpx.AsyncClient, route: str) -> None:
    """Every statistics and settings route of the link's chat answers 200."""
    reply = await linked.get(f"/api/chats/{BERLIN}{route}")
    assert reply.status_code == 200, reply.text


@pytest.mark.parametrize("route", CHAT_ROUTES)
async def test_a_link_is_refused_on_another_chat(linked: httpx.AsyncClient, route: str) -> None:
    """The same routes of another chat are a 403 saying the link is for its own chat."""
    reply = await linked.get(f"/api/chats/{KOLKATA}{route}")
    assert (reply.status_code, reply.json()) == (403, {"detail": OTHER_CHAT})


@pytest.mark.parametrize(
    "path", ["/api/chats", f"/api/chats/0{BERLIN}x/summary", "/api/chats/abc/settings"]
)
async def test_a_link_does_not_open_the_chat_list_or_odd_paths(
    linked: httpx.AsyncClient, path: str
) -> None:
    """The chat list and a path whose chat id is not the link's number are a 403."""
    assert (await linked.get(path)).status_code == 403


async def test_a_link_cannot_change_another_chats_settings(
    linked: httpx.AsyncClient, js: JetStreamContext, subjects: Subjects
) -> None:
    """A PUT on another chat's settings is a 403 and publishes nothing."""
    before = await last_settings_event(js, subjects, KOLKATA)
    reply = await linked.put(f"/api/chats/{KOLKATA}/settings", json={"timezone": "UTC"})
    assert reply.status_code == 403
    assert await last_settings_event(js, subjects, KOLKATA) == before


async def test_a_change_through_a_link_names_the_admin(
    linked: httpx.AsyncClient, js: JetStreamContext, subjects: Subjects
) -> None:
    """A PUT through a link publishes a SettingsChanged whose changed_by is the link's user."""
    wanted = {"timezone": "Europe/Berlin", "store_text": False, "retention_days": 400}
    reply = await linked.put(f"/api/chats/{BERLIN}/settings", json=wanted)
    assert reply.status_code == 202, reply.text
    found = await last_settings_event(js, subjects, BERLIN)
    assert found is not None
    event, _ = found
    assert (event.changed_by, event.settings.retention_days) == (ADMIN, 400)


async def test_a_change_by_the_operator_names_nobody(
    client: httpx.AsyncClient, js: JetStreamContext, subjects: Subjects
) -> None:
    wanted = {"timezone": "Europe/Berlin", "store_text": False, "retention_days": 401}
    assert (await client.put(f"/api/chats/{BERLIN}/settings", json=wanted)).status_code == 202
    found = await last_settings_event(js, subjects, BERLIN)
    assert found is not None
    assert (found[0].changed_by, found[0].settings.retention_days) == (None, 401)


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (link(minutes=-1), "expired"),
        (link(minutes=0), "expired"),
        (link(secret="another-secret-of-enough-length-0123456789"), "signature"),
        (link()[:-2] + ("AA" if link()[-2:] != "AA" else "BB"), "signature"),
        ("not-a-link", "not a dashboard link"),
    ],
)
async def test_a_bad_link_is_401_with_a_reason(
    anonymous: httpx.AsyncClient, sample: SampleChats, token: str, reason: str
) -> None:
    """Expired, signed with another secret, altered or malformed: 401 saying which."""
    reply = await anonymous.get(f"/api/chats/{BERLIN}/summary", headers={LINK_HEADER: token})
    assert reply.status_code == 401
    assert reason in reply.json()["detail"]


async def test_the_operator_token_opens_everything_beside_a_link(
    client: httpx.AsyncClient,
) -> None:
    """With the admin token, a link for another chat limits nothing; a wrong token with a
    good link is still a 401 (a wrong token is never ignored)."""
    client.headers[LINK_HEADER] = link(KOLKATA)
    for path in ("/api/chats", f"/api/chats/{BERLIN}/summary", f"/api/chats/{KOLKATA}"):
        assert (await client.get(path)).status_code == 200, path
    client.headers["X-Admin-Token"] = TOKEN + "x"
    assert (await client.get(f"/api/chats/{KOLKATA}")).status_code == 401


async def test_opening_a_link_sets_a_strict_cookie_for_that_chat(
    anonymous: httpx.AsyncClient, sample: SampleChats
) -> None:
    """The gateway's page_url (GET /chats/{id}?link=...) answers the page and sets the link
    as an HttpOnly, SameSite=Strict cookie that lives no longer than the link; with it the
    page's API calls read that chat and are refused on another."""
    token = link(minutes=10)
    page = await anonymous.get(page_url(str(anonymous.base_url), BERLIN, token))
    assert page.status_code == 200
    assert 'data-chat-link="true"' in page.text
    cookie = SimpleCookie(page.headers["set-cookie"])[LINK_COOKIE]
    assert cookie.value == token
    assert cookie["httponly"] and cookie["samesite"] == "strict" and cookie["path"] == "/"
    assert 590 <= int(cookie["max-age"]) <= 600
    assert page.headers["cache-control"] == "no-store"
    sent = {"Cookie": f"{LINK_COOKIE}={token}"}
    assert (await anonymous.get(f"/api/chats/{BERLIN}/summary", headers=sent)).status_code == 200
    assert (await anonymous.get(f"/api/chats/{KOLKATA}/summary", headers=sent)).status_code == 403
    assert (await anonymous.get("/api/chats", headers=sent)).status_code == 403
    reload = await anonymous.get(f"/chats/{BERLIN}", headers=sent)
    assert 'data-chat-link="true"' in reload.text
    other = await anonymous.get(f"/chats/{KOLKATA}", headers=sent)
    assert 'data-chat-link="false"' in other.text


@pytest.mark.parametrize(
    ("chat_id", "token", "status", "reason"),
    [
        # Made at collection: valid for a day, however long the run takes to get here.
        (KOLKATA, link(BERLIN, minutes=24 * 60), 403, OTHER_CHAT),
        (BERLIN, link(minutes=-5), 401, "expired"),
        (
            BERLIN,
            link(minutes=24 * 60, secret="another-secret-of-enough-length-0123456789"),
            401,
            "signature",
        ),
    ],
)
async def test_a_refused_link_page_says_why_and_sets_no_cookie(
    anonymous: httpx.AsyncClient, chat_id: int, token: str, status: int, reason: str
) -> None:
    page = await anonymous.get(f"/chats/{chat_id}", params={"link": token})
    assert page.status_code == status
    assert reason in page.text
    assert "set-cookie" not in page.headers


async def test_a_retention_change_can_be_previewed(
    client: httpx.AsyncClient, sql: ReferenceSql
) -> None:
    """``?days=N`` counts the raw messages older than now minus N days, whatever the chat's
    own retention; without it the chat's own retention_days is used."""
    reply = await client.get(f"/api/chats/{BERLIN}/retention/preview", params={"days": 60})
    assert reply.status_code == 200
    body = reply.json()
    cutoff = datetime.fromisoformat(body["cutoff"])
    assert body["retention_days"] == 60
    assert body["messages"] == await sql.value(
        "SELECT count(*) FROM messages WHERE chat_id = :chat AND sent_at < :cutoff",
        chat=BERLIN,
        cutoff=cutoff,
    )
    stored = (await client.get(f"/api/chats/{BERLIN}/settings")).json()["retention_days"]
    own = (await client.get(f"/api/chats/{BERLIN}/retention/preview")).json()
    assert own["retention_days"] == stored
    for days in (0, 36_501):
        refused = await client.get(f"/api/chats/{BERLIN}/retention/preview?days={days}")
        assert refused.status_code == 422


@pytest.fixture
async def linkless(settings: CommonSettings, streams: None) -> AsyncIterator[httpx.AsyncClient]:
    """A dashboard with an admin token and no DASHBOARD_LINK_SECRET."""
    app = create_app(DashboardSettings(**settings.model_dump(), admin_api_token=TOKEN))
    transport = httpx.ASGITransport(app=app, client=("192.0.2.7", 50000))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://dashboard") as client,
    ):
        yield client


async def test_without_a_secret_links_are_off_and_say_so(
    linkless: httpx.AsyncClient, sample: SampleChats
) -> None:
    """No DASHBOARD_LINK_SECRET: a link (even one signed with some secret) is a 401 saying
    links are off, on the API and on the page; the admin token works as before."""
    api = await linkless.get(f"/api/chats/{BERLIN}/summary", headers={LINK_HEADER: link()})
    assert (api.status_code, api.json()) == (401, {"detail": LINKS_OFF})
    page = await linkless.get(f"/chats/{BERLIN}", params={"link": link()})
    assert page.status_code == 401 and "DASHBOARD_LINK_SECRET" in page.text
    operator = await linkless.get("/api/chats", headers={"X-Admin-Token": TOKEN})
    assert operator.status_code == 200


def test_a_short_link_secret_is_refused() -> None:
    """DASHBOARD_LINK_SECRET under 32 characters stops the dashboard at start; empty is
    unset."""
    with pytest.raises(ValueError, match="at least 32"):
        DashboardSettings(dashboard_link_secret="x" * 31)
    assert DashboardSettings(dashboard_link_secret="").dashboard_link_secret is None
