"""The web pages in headless Chromium (Debian's, driven by Playwright): the numbers a person
sees on the chat list and a chat's page are the API's; the settings editor shows a chat's
settings, previews a retention change and saves it; a signed link opens its chat alone."""

import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from nats.js import JetStreamContext
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright, expect

from tally.contracts.chat_events import ChatEvent
from tally.contracts.dashboard_link import sign
from tally.contracts.subjects import Subjects
from tally.dashboard.app import create_app
from tally.dashboard.config import DashboardSettings
from tests.factories.group_chat import ELSEWHERE, GROUP, WEEK_END, WEEK_START
from tests.factories.sample_chats import BERLIN, KOLKATA, RECENT, SampleChats

from .conftest import LINK_SECRET, TOKEN, last_settings_event

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed at /usr/bin/chromium "
    "(apt-get install -y chromium; .ci/run does it)",
)
KPIS = ("messages", "active_users", "dau", "wau", "mau", "new_members", "left_members")
PERIOD = {"from": "2025-10-20", "to": "2025-11-02"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def server(dashboard_settings: DashboardSettings, streams: None) -> Iterator[str]:
    """The dashboard served by uvicorn on a free port, in a thread of its own."""
    port = _free_port()
    config = uvicorn.Config(
        create_app(dashboard_settings), host="127.0.0.1", port=port, log_level="warning"
    )
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not running.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join(timeout=15)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        yield browser
        await browser.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[tuple[Page, list[str]]]:
    """A fresh tab, and the errors its console and scripts report."""
    context = await browser.new_context()
    page = await context.new_page()
    errors: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page, errors
    await context.close()


def shown(value: float) -> str:
    """A number as the pages show it (en-US grouping, at most two decimals)."""
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text or "0"


async def _api(client: httpx.AsyncClient, path: str, **params: Any) -> Any:
    reply = await client.get(path, params=params)
    assert reply.status_code == 200, reply.text
    return reply.json()


async def test_the_pages_show_the_apis_numbers(
    server: str,
    page: tuple[Page, list[str]],
    client: httpx.AsyncClient,
    sample: SampleChats,
) -> None:
    """Log in with the token; the chat list shows each chat's 30-day numbers; a chat's page,
    for a custom period, shows the summary's KPIs, the users table's first row, a retention
    row per cohort and both charts; nothing is refused by the Content-Security-Policy."""
    tab, errors = page
    await tab.goto(f"{server}/")
    await expect(tab.locator("#login")).to_be_visible()
    await tab.fill("#token", TOKEN)
    await tab.click("#login button[type=submit]")
    for chat in await _api(client, "/api/chats"):
        row = tab.locator(f'#chats tr[data-chat-id="{chat["chat_id"]}"]')
        recent = chat["last_30_days"]
        await expect(row.locator(".messages")).to_have_text(shown(recent["messages"]))
        await expect(row.locator(".active-users")).to_have_text(shown(recent["active_users"]))
    await expect(tab.locator(f'#chats tr[data-chat-id="{RECENT}"] .messages')).to_have_text("3")

    await tab.click(f'#chats tr[data-chat-id="{BERLIN}"] a')
    await expect(tab.locator("#chat-title")).to_have_text("Berlin group")
    await expect(tab.locator("#chat-timezone")).to_have_text("Europe/Berlin")
    await tab.fill("#from", PERIOD["from"])
    await tab.fill("#to", PERIOD["to"])
    await tab.click("#apply")

    summary = await _api(client, f"/api/chats/{BERLIN}/summary", **PERIOD)
    for key in KPIS:
        card = tab.locator(f"#kpi-{key}")
        await expect(card.locator(".value")).to_have_text(shown(summary[key]["value"]))
        await expect(card.locator(".change")).to_contain_text(shown(summary[key]["previous"]))
    users = await _api(client, f"/api/chats/{BERLIN}/users", size=20, **PERIOD)
    top, first_row = users["items"][0], tab.locator("#users tbody tr").first
    await expect(first_row.locator(".user-id")).to_have_text(str(top["user_id"]))
    await expect(first_row.locator(".messages")).to_have_text(shown(top["messages"]))
    await expect(first_row.locator(".active-days")).to_have_text(shown(top["active_days"]))
    await expect(first_row.locator(".last-seen")).to_have_text(top["last_seen"])
    await expect(first_row.locator(".name")).to_contain_text(top["first_name"])
    await expect(tab.locator("#users tbody tr")).to_have_count(len(users["items"]))
    retention = await _api(client, f"/api/chats/{BERLIN}/retention", weeks=8, **PERIOD)
    await expect(tab.locator("#retention tbody tr")).to_have_count(len(retention["cohorts"]))
    await expect(tab.locator("#timeseries .main-svg").first).to_be_visible()
    await expect(tab.locator("#heatmap .main-svg").first).to_be_visible()
    assert errors == []


async def test_a_wrong_token_brings_the_login_back(
    server: str, page: tuple[Page, list[str]], sample: SampleChats
) -> None:
    """A wrong token is forgotten and the login form shown again; no numbers appear."""
    tab, _ = page
    await tab.goto(f"{server}/")
    await tab.fill("#token", "not-the-token-at-all")
    await tab.click("#login button[type=submit]")
    await expect(tab.locator("#login")).to_be_visible()
    await expect(tab.locator("#chats tbody tr")).to_have_count(0)
    assert await tab.evaluate("sessionStorage.length") == 0


async def test_plotly_is_served_from_the_dashboard(server: str) -> None:
    """plotly.js comes from the plotly wheel through the dashboard, not from a CDN."""
    async with httpx.AsyncClient() as http:
        script = await http.get(f"{server}/vendor/plotly.min.js")
        page = await http.get(f"{server}/chats/{BERLIN}")
    assert script.status_code == 200 and "plotly.js" in script.text[:200]
    assert '<script src="/vendor/plotly.min.js">' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


async def _log_in(tab: Page, server: str, path: str) -> None:
    await tab.goto(f"{server}{path}")
    await tab.fill("#token", TOKEN)
    await tab.click("#login button[type=submit]")


async def test_the_settings_editor_previews_and_saves(
    server: str,
    page: tuple[Page, list[str]],
    client: httpx.AsyncClient,
    js: JetStreamContext,
    subjects: Subjects,
    sample: SampleChats,
) -> None:
    """The editor shows the chat's stored settings; a new retention shows what it would
    delete (the preview API's counts) before anything is saved; Save publishes exactly the
    settings in the form."""
    tab, errors = page
    await _log_in(tab, server, f"/chats/{BERLIN}")
    stored = await _api(client, f"/api/chats/{BERLIN}/settings")
    await expect(tab.locator("#setting-timezone")).to_have_value(stored["timezone"])
    await expect(tab.locator("#setting-retention")).to_have_value(str(stored["retention_days"]))
    assert await tab.locator("#setting-store-text").is_checked() == stored["store_text"]

    preview = await _api(client, f"/api/chats/{BERLIN}/retention/preview", days=30)
    await tab.fill("#setting-retention", "30")
    await tab.locator("#setting-retention").dispatch_event("change")
    await expect(tab.locator("#retention-preview")).to_contain_text(
        f"Keeping 30 days deletes {shown(preview['messages'])} messages"
    )
    before = await last_settings_event(js, subjects, BERLIN)
    assert before is None or before[0].settings.retention_days != 30

    await tab.fill("#setting-timezone", "Europe/Paris")
    await tab.check("#setting-store-text")
    await tab.click("#save-settings")
    await expect(tab.locator("#settings-status")).to_contain_text("Saved")
    found = await last_settings_event(js, subjects, BERLIN)
    assert found is not None
    assert found[0].settings.model_dump() == {
        "version": 1,
        "timezone": "Europe/Paris",
        "store_text": True,
        "retention_days": 30,
    }
    assert found[0].changed_by is None
    assert errors == []


async def test_a_signed_link_opens_its_chat_alone(
    server: str,
    page: tuple[Page, list[str]],
    js: JetStreamContext,
    subjects: Subjects,
    sample: SampleChats,
) -> None:
    """Opened from Telegram, a link shows its chat without asking for the token, drops the
    link from the address bar, and saves settings in the admin's name; another chat's page
    still asks for the token, and its API refuses the link's cookie."""
    tab, errors = page
    token = sign(BERLIN, 91_001, datetime.now(UTC) + timedelta(minutes=15), LINK_SECRET)
    await tab.goto(f"{server}/chats/{BERLIN}?link={token}")
    await expect(tab.locator("#chat-title")).to_have_text("Berlin group")
    await expect(tab.locator("#login")).to_be_hidden()
    assert tab.url == f"{server}/chats/{BERLIN}"
    await expect(tab.locator("#kpi-messages .value")).not_to_have_text("–")
    await tab.fill("#setting-retention", "45")
    await tab.click("#save-settings")
    await expect(tab.locator("#settings-status")).to_contain_text("Saved")
    found = await last_settings_event(js, subjects, BERLIN)
    assert found is not None
    assert (found[0].changed_by, found[0].settings.retention_days) == (91_001, 45)
    assert errors == []

    await tab.goto(f"{server}/chats/{KOLKATA}")
    await expect(tab.locator("#login")).to_be_visible()
    refused = await tab.evaluate(f"fetch('/api/chats/{KOLKATA}').then((r) => r.status)")
    assert refused == 403


async def test_the_group_reports_show_the_apis_numbers(
    server: str,
    page: tuple[Page, list[str]],
    client: httpx.AsyncClient,
    conversation: dict[int, list[ChatEvent]],
) -> None:
    """The chat page's group panels, for the factory's week: the figures, top lists and
    charts are the report routes' answers; a chat that does not store text says so where
    hashtags and words would be."""
    tab, errors = page
    week = {"from": WEEK_START.isoformat(), "to": WEEK_END.isoformat()}
    await _log_in(tab, server, f"/chats/{GROUP}")
    await expect(tab.locator("#chat-timezone")).to_have_text("Europe/Berlin")
    await tab.fill("#from", week["from"])
    await tab.fill("#to", week["to"])
    await tab.click("#apply")
    base = f"/api/chats/{GROUP}"

    content = await _api(client, f"{base}/content", **week)
    for key in ("messages", "links", "mentions", "hashtags", "forwards", "replies"):
        await expect(tab.locator(f"#content-{key}")).to_have_text(shown(content[key]))
    first_tag = content["top_hashtags"][0]
    await expect(tab.locator("#hashtags tbody tr").first).to_contain_text(f"#{first_tag['tag']}")
    reactions = await _api(client, f"{base}/reactions", limit=10, **week)
    await expect(tab.locator("#reactions-total")).to_have_text(shown(reactions["total"]))
    emoji = tab.locator("#reaction-emoji tbody tr").first
    await expect(emoji.locator(".emoji")).to_have_text(reactions["top_emoji"][0]["emoji"])
    await expect(emoji.locator(".count")).to_have_text(shown(reactions["top_emoji"][0]["count"]))
    received = tab.locator("#reactions-received tbody tr").first
    await expect(received.locator(".name")).to_have_text(
        reactions["received"][0]["member"]["label"]
    )
    replies = await _api(client, f"{base}/replies", limit=10, **week)
    await expect(tab.locator("#replies-median")).to_have_text(
        f"{shown(replies['median_delay_seconds'] / 60)} min"
    )
    await expect(tab.locator("#reply-pairs tbody tr")).to_have_count(len(replies["top_pairs"]))
    topics = await _api(client, f"{base}/topics", **week)
    await expect(tab.locator("#topics tbody tr")).to_have_count(len(topics["topics"]))
    flow = await _api(client, f"{base}/members/flow", limit=10, **week)
    await expect(tab.locator("#flow-joins")).to_have_text(shown(flow["joins"]))
    await expect(tab.locator("#flow-count_last")).to_have_text(shown(flow["count_last"]))
    await expect(tab.locator("#flow-count_change")).to_have_text(shown(flow["count_change"]))
    await expect(tab.locator("#member-count-note")).to_be_hidden()
    inviter = flow["top_inviters"][0]
    await expect(tab.locator("#inviters tbody tr").first).to_contain_text(
        inviter["member"]["label"]
    )
    words = await _api(client, f"{base}/words", limit=15, **week)
    first_word = tab.locator("#words-ru tbody tr").first
    await expect(first_word.locator(".word")).to_have_text(words["words"]["ru"][0]["word"])
    await tab.select_option("#top-by", "replies")
    top = await _api(client, f"{base}/top", by="replies", limit=10, **week)
    leader = tab.locator("#top-members tbody tr").first
    await expect(leader.locator(".count")).to_have_text(shown(top["items"][0]["count"]))
    await expect(tab.locator("#message-types .main-svg").first).to_be_visible()
    await expect(tab.locator("#member-flow .main-svg").first).to_be_visible()
    await expect(tab.locator("#member-count .main-svg").first).to_be_visible()
    assert errors == []

    await tab.goto(f"{server}/chats/{ELSEWHERE}")
    await expect(tab.locator("#words-note")).to_contain_text("does not store message text")
    await expect(tab.locator("#hashtags-note")).to_be_visible()
    await expect(tab.locator("#words-en")).to_be_hidden()
    await expect(tab.locator("#member-count-note")).to_contain_text("No member count was taken")
    await expect(tab.locator("#flow-count_last")).to_have_text("–")
    assert errors == []
