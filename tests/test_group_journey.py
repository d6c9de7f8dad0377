"""What a group asks for, end to end (issue "What groups ask for"): one supergroup's life driven
through the fake Bot API into the real gateway, ingest, executor, dashboard and the alerts
service's digest scheduler, on real NATS and PostgreSQL.

An admin sets the chat's time zone with /settings (a member's try is refused); a scripted
conversation follows on fixed dates of November 2025 in Tokyo: replies, reactions, links,
hashtags, mentions, forum topics, a join by invite link and one by an inviter. Then /me,
/user, ``/top 5 by reactions 2025-11``, /dashboard (the signed link opens that chat's page and
API and no other chat's), the weekly digest (the scheduler on a fixed clock), a Telegram
Desktop export of the chat's earlier history imported with ``tally import-chat``, another
sent to the bot privately by an admin (sent again it changes nothing; a member's copy is
refused), and the day's member count snapshot (the gateway's daily task, Telegram's
getChatMemberCount) in /members and the API. Every figure in the bot's replies and the
dashboard's answers is checked against counts computed here from :data:`CONVERSATION`,
:data:`REACTIONS`, :data:`JOINS`, :data:`HISTORY`, :data:`SENT` and :data:`MEMBER_COUNT`;
never read back from the tables. A browser (Chromium, Playwright) opens the link the bot
sent and checks the page's group panels against the API's JSON.

The tests share one module-scoped journey and may run in any order: the imported histories
are of 1 October 2025 (outside November's previous period, 2–31 October, that /me and /user
compare with) and of September 2025, the member count is of today, so only the reports that
ask for those days see them.
"""

import asyncio
import itertools
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from uuid import uuid4
from zoneinfo import ZoneInfo

import httpx
import nats
import pytest
import uvicorn
from faststream.nats import NatsBroker
from playwright.async_api import async_playwright, expect
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from tally.alerts.digests import DigestMetrics, DigestScheduler
from tally.cli.main import app as cli
from tally.contracts.chat_events import ChatSettings
from tally.contracts.digests import DigestEntry
from tally.contracts.render import format_number
from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import Subjects
from tally.dashboard.app import create_app as dashboard_app
from tally.dashboard.config import DashboardSettings
from tally.executor.app import create_broker_for as executor_broker
from tally.executor.config import ExecutorSettings
from tally.executor.runner import Reader
from tally.gateway.app import Gateway, running_gateway
from tally.gateway.config import GatewaySettings
from tally.gateway.telegram.keyboards import SettingsButton
from tally.infra.db.session import create_engine
from tally.infra.settings import CommonSettings
from tally.ingest.app import create_broker_for as ingest_broker
from tally.ingest.app import create_database_engine
from tally.ingest.config import IngestSettings
from tally.testing.telegram import DEFAULT_TOKEN, ContentType, FakeTelegram, Press, SentMessage
from tests.factories.chat_exports import ExportBuilder
from tests.factories.chat_rows import remove_chats

BARE = 1_777_000_321
CHAT = -1_001_777_000_321
"""The supergroup (``-100<bare id>``, as Telegram Desktop's export names it ``BARE``)."""
OTHER_CHAT = -1_001_777_000_999
"""A chat the /dashboard link was not made for."""
ZONE = "Asia/Tokyo"
TOKYO = ZoneInfo(ZONE)
TOKEN = "group-journey-admin-token-0123456789"
LINK_SECRET = "group-journey-link-secret-0123456789-abcdef"
TIMEOUT_S = 60.0
"""How long a reply or a stored count is waited for (generous: the machine may be loaded)."""

ADA, BEN, CY, DEE, EVE, FAY = 95_001, 95_002, 95_003, 95_004, 95_005, 95_006
USERNAMES = {ADA: "ada", BEN: "ben", CY: "cy", DEE: "dee", EVE: "eve"}
ADMIN, MEMBER = ADA, BEN
ROUTES, GEAR = 40, 41
"""Forum topics (thread ids: the ids of their first messages, created before the record)."""
COMMAND_IDS = 1_001
"""The commands' message ids count up from here: after the conversation's (101..), which
comes after the topics' first messages, the October history's (21..) and September's (1..)."""


def tokyo(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of 2025 on Tokyo's clock (UTC+9)."""
    return datetime(2025, month, day, hour, minute, tzinfo=TOKYO)


@dataclass(frozen=True)
class Said:
    """One message: its id, sender, time, text (a caption for other content) and where it
    sits (replying to a message id, in a topic)."""

    message_id: int
    user: int
    at: datetime
    text: str | None
    reply_to: int | None = None
    thread_id: int | None = None
    content_type: ContentType = "text"
    forwarded: bool = False

    def entities(self) -> list[dict[str, Any]]:
        """The Bot API entities Telegram would mark in the text: ``#tag`` a hashtag,
        ``@name`` a mention, ``http…`` a url (each a whitespace-separated token)."""
        found, offset = [], 0
        for token in (self.text or "").split(" "):
            kind = {"#": "hashtag", "@": "mention", "h": "url"}.get(token[:1])
            if kind and (kind != "url" or token.startswith("http")):
                found.append({"type": kind, "offset": offset, "length": len(token)})
            offset += len(token) + 1
        return found

    def words(self) -> int:
        """Words as Tally documents them (tally.contracts.chat_text): whitespace-separated
        tokens with a letter or digit."""
        return sum(1 for token in (self.text or "").split() if any(c.isalnum() for c in token))

    def local_day(self) -> date:
        return self.at.astimezone(TOKYO).date()


CONVERSATION = [
    Said(101, ADA, tokyo(11, 1, 1, 30), "welcome to the club #intro"),  # 31 Oct in UTC
    Said(102, BEN, tokyo(11, 17, 9), "hi all see https://example.org", reply_to=101),
    Said(103, CY, tokyo(11, 17, 9, 5), "thanks @ben", reply_to=102),
    Said(104, ADA, tokyo(11, 18, 12), "route plan for saturday #hike", thread_id=ROUTES),
    Said(105, BEN, tokyo(11, 18, 12, 10), "count me in for the route", thread_id=ROUTES),
    Said(106, DEE, tokyo(11, 19, 20), "hello I am new here which route", 104, ROUTES),
    Said(107, CY, tokyo(11, 20, 7), "the view", thread_id=GEAR, content_type="photo"),
    Said(108, BEN, tokyo(11, 21, 22), "https://a.example or https://b.example #gear", None, GEAR),
    Said(109, ADA, tokyo(11, 22, 10), None, reply_to=108, content_type="sticker"),
    Said(110, CY, tokyo(12, 1, 0, 30), "december already"),  # 30 Nov in UTC
    Said(111, DEE, tokyo(11, 23, 18), "a tip from elsewhere", forwarded=True),
]
"""The live conversation, in order."""
REACTIONS: list[tuple[int, int, tuple[str, ...], tuple[str, ...]]] = [
    (BEN, 101, (), ("👍",)),
    (CY, 101, (), ("👍",)),
    (ADA, 102, (), ("🔥",)),
    (DEE, 102, (), ("👍",)),
    (DEE, 102, ("👍",), ()),  # taken back
    (CY, 104, (), ("👍",)),
    (DEE, 104, (), ("❤",)),
    (BEN, 104, (), ("🔥",)),
    (ADA, 108, (), ("👍",)),
    (CY, 108, (), ("❤",)),
    (BEN, 110, (), ("👍",)),  # on a December message
]
"""(reactor, message id, old reactions, new reactions): ``message_reaction`` updates, each an
hour after its message."""
JOINS: list[tuple[int, datetime, int | None]] = [
    (DEE, tokyo(11, 19, 19), None),  # through the invite link
    (EVE, tokyo(11, 20, 8), ADA),  # added by Ada
]
"""(who joined, when, who added them: None for an invite link)."""
LEAVES: list[tuple[int, datetime]] = [(EVE, tokyo(11, 22, 21))]
"""(who left, when)."""
HISTORY_START = tokyo(10, 1, 10)
"""The imported export's first message (1 October 2025, before the bot was added)."""
HISTORY: list[tuple[int, str]] = [(ADA, "Ada"), (FAY, "Fay"), (FAY, "Fay"), (BEN, "Ben")]
"""The export's messages, a minute apart: (sender, name); each says "old times"."""
HISTORY_FIRST_ID = 21
"""The October export's first message id (September's come before it)."""
NAMES = {ADA: "Ada", BEN: "Ben", CY: "Cy", FAY: "Fay"}
"""How the exports name their senders."""
SENT: list[tuple[int, datetime]] = [
    (ADA, tokyo(9, 1, 0, 30)),  # 31 Aug in UTC
    (BEN, tokyo(9, 1, 9)),
    (ADA, tokyo(9, 2, 20)),
    (CY, tokyo(9, 10, 12)),
    (ADA, tokyo(9, 10, 12, 5)),
    (FAY, tokyo(9, 15, 8)),
    (BEN, tokyo(9, 15, 8, 30)),
    (CY, tokyo(9, 20, 18)),
    (ADA, tokyo(9, 30, 23, 50)),
    (BEN, tokyo(9, 30, 23, 55)),
]
"""The September 2025 export an admin sends the bot (ids 1..): (sender, when); each says
"summer plans"."""
EXPORT_TITLE = "Journey Club"
SEPTEMBER = (date(2025, 9, 1), date(2025, 9, 30))
MEMBER_COUNT = 57
"""The chat's member count as Telegram gives it (getChatMemberCount)."""
NOVEMBER = (date(2025, 11, 1), date(2025, 11, 30))
WEEK = (date(2025, 11, 17), date(2025, 11, 23))
"""The Monday-to-Sunday week whose digest is sent."""


def _in(said_at: date, period: tuple[date, date]) -> bool:
    return period[0] <= said_at <= period[1]


def said_in(period: tuple[date, date]) -> list[Said]:
    """The conversation's messages of ``period`` (Tokyo days, inclusive)."""
    return [said for said in CONVERSATION if _in(said.local_day(), period)]


def standing() -> dict[tuple[int, int], tuple[str, ...]]:
    """Each (reactor, message)'s reactions after every update of REACTIONS."""
    final: dict[tuple[int, int], tuple[str, ...]] = {}
    for reactor, message_id, _, new in REACTIONS:
        final[(reactor, message_id)] = new
    return {key: emoji for key, emoji in final.items() if emoji}


def reactions_in(period: tuple[date, date]) -> list[tuple[int, Said, str]]:
    """(reactor, message, emoji) standing on the messages sent in ``period``."""
    by_id = {said.message_id: said for said in CONVERSATION}
    return [
        (reactor, by_id[message_id], emoji)
        for (reactor, message_id), emojis in standing().items()
        for emoji in emojis
        if _in(by_id[message_id].local_day(), period)
    ]


def label(user: int) -> str:
    """How replies name a member: @username, else their first name."""
    return f"@{USERNAMES[user]}" if user in USERNAMES else f"User{user}"


def shown(value: float) -> str:
    """A number as the dashboard's pages show it (en-US grouping, at most two decimals)."""
    return f"{value:,.2f}".rstrip("0").rstrip(".") or "0"


@dataclass
class Journey:
    """The running stack and what happened on the way."""

    telegram: FakeTelegram
    settings: CommonSettings
    engine: AsyncEngine
    dashboard: str
    """The dashboard's base URL (uvicorn on a free port)."""
    gateway: Gateway
    """The running gateway (its daily member count snapshot is taken on demand)."""
    settings_replies: dict[int, str] = field(default_factory=dict)
    """The bot's reply to each /settings attempt, by who tried."""
    presses: dict[int, Press] = field(default_factory=dict)
    """Each /settings button press and what the bot answered, by who pressed."""

    _command_ids: Iterator[int] = field(default_factory=lambda: itertools.count(COMMAND_IDS))

    def api(self) -> httpx.AsyncClient:
        """A client of the dashboard's API as its operator (the admin token)."""
        return httpx.AsyncClient(base_url=self.dashboard, headers={"X-Admin-Token": TOKEN})

    async def ask(self, user: int, command: str) -> SentMessage:
        """``command`` sent by ``user`` in the chat; the bot's one reply there."""
        self.telegram.push_group_message(CHAT, user, command, message_id=next(self._command_ids))
        [reply] = await self.telegram.wait_sent(count=1, timeout=TIMEOUT_S, chat_id=CHAT)
        return reply

    async def scalar(self, query: str, **params: Any) -> Any:
        async with self.engine.connect() as connection:
            return await connection.scalar(text(query), {"chat": CHAT, **params})

    async def events_published(self) -> int:
        """The last sequence number of this journey's CHAT_EVENTS stream."""
        client = await nats.connect(self.settings.nats_url)
        try:
            subjects = Subjects(self.settings.subject_prefix)
            info = await client.jetstream().stream_info(subjects.chat_events_stream)
        finally:
            await client.close()
        return int(info.state.last_seq)

    async def until(
        self, what: str, probe: Callable[[], Awaitable[object]], expected: object
    ) -> None:
        """Wait (up to TIMEOUT_S) for ``probe()`` to give ``expected``; fail naming ``what``
        and the last value found if it never does."""
        deadline = time.monotonic() + TIMEOUT_S
        while (found := await probe()) != expected:
            assert time.monotonic() < deadline, f"{what}: {found}, not {expected}"
            await asyncio.sleep(0.2)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def dashboard(own: CommonSettings) -> Iterator[str]:
    """The dashboard served by uvicorn on a free port (a thread of its own), on this module's
    subject prefix; its base URL."""
    port = _free_port()
    app = dashboard_app(
        DashboardSettings(
            **own.model_dump(), admin_api_token=TOKEN, dashboard_link_secret=LINK_SECRET
        )
    )
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + TIMEOUT_S
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)


@pytest.fixture(scope="module")
async def own(settings: CommonSettings) -> AsyncIterator[CommonSettings]:
    """This module's subject prefix and streams: its gateway's events reach its ingest only."""
    prefixed = settings.model_copy(update={"subject_prefix": f"j{uuid4().hex[:10]}"})
    client = await nats.connect(settings.nats_url)
    await ensure_streams(client.jetstream(), Subjects(prefixed.subject_prefix))
    yield prefixed
    await delete_streams(client.jetstream(), Subjects(prefixed.subject_prefix))
    await client.close()


@pytest.fixture(scope="module")
async def journey(own: CommonSettings, dashboard: str) -> AsyncIterator[Journey]:
    """Ingest, the executor and the gateway in this process (the dashboard in its thread);
    the admin's settings, a member's refused ones, then the conversation, waited for until
    ingest stored all of it; the chat's rows removed afterwards."""
    base = own.model_dump()
    engine = create_engine(own.database_url)
    async with AsyncExitStack() as services, FakeTelegram() as telegram:
        ingest_settings = IngestSettings(**base)
        write_engine = create_database_engine(ingest_settings)
        services.push_async_callback(write_engine.dispose)
        reader = Reader(ExecutorSettings(**base))
        services.push_async_callback(reader.close)
        for broker in (
            ingest_broker(ingest_settings, engine=write_engine),
            executor_broker(ExecutorSettings(**base), reader),
        ):
            await broker.start()
            services.push_async_callback(broker.stop)
        gateway = GatewaySettings(
            **base,
            bot_token=DEFAULT_TOKEN,
            telegram_api_base=telegram.base_url,
            group_throttle_interval_s=0,  # members ask for several reports in a row
            dashboard_link_secret=LINK_SECRET,
            dashboard_public_url=f"{dashboard}/",
        )
        running = await services.enter_async_context(running_gateway(gateway))
        for user, username in USERNAMES.items():
            telegram.set_username(user, username)
        telegram.set_member_status(CHAT, ADMIN, "administrator")
        state = Journey(telegram, own, engine, dashboard, running)
        await _settings(state)
        _converse(telegram)
        await state.until("the conversation stored", _messages_stored(state), len(CONVERSATION))
        _react(telegram)
        await state.until(
            "stored (messages, joins and leaves, reactions)", _stored(state), _expected()
        )
        yield state
    await remove_chats(engine, [CHAT], [ADA, BEN, CY, DEE, EVE, FAY], [])
    await engine.dispose()


async def _settings(state: Journey) -> None:
    """The admin sets the chat's zone and presses "Store message text" (both applied: stored
    by ingest before any message, so every local day is Tokyo's and texts are kept); a member
    then tries to set UTC, and to press "Keep 30 days", and is refused both times."""
    state.settings_replies[ADMIN] = (await state.ask(ADMIN, f"/settings timezone {ZONE}")).text

    await state.until("the chat's stored time zone", _chat_settings(state), (ZONE, False))
    state.presses[ADMIN] = await _press(state, ADMIN, SettingsButton(action="text", value=1))
    await state.until("the chat's stored settings", _chat_settings(state), (ZONE, True))
    state.settings_replies[MEMBER] = (await state.ask(MEMBER, "/settings timezone UTC")).text
    state.presses[MEMBER] = await _press(state, MEMBER, SettingsButton(action="keep", value=30))


def _chat_settings(state: Journey) -> Callable[[], Awaitable[object]]:
    """The chat's stored (time zone, store_text)."""

    async def probe() -> object:
        async with state.engine.connect() as connection:
            found = await connection.execute(
                text("SELECT timezone, store_text FROM chats WHERE chat_id = :chat"),
                {"chat": CHAT},
            )
            row = found.first()
        return None if row is None else (row[0], row[1])

    return probe


async def _press(state: Journey, user: int, button: SettingsButton) -> Press:
    """``user`` presses ``button`` under a /settings card in the chat; once answered."""
    update = state.telegram.push_callback(CHAT, user, button.pack(), chat_type="supergroup")
    return await state.telegram.wait_press(update, timeout=TIMEOUT_S)


def _converse(telegram: FakeTelegram) -> None:
    """Push the joins, the leaves and the messages, in the order they happened."""
    for user, at, inviter in JOINS:
        telegram.push_member(CHAT, user, "join", inviter, via_link=inviter is None, at=at)
    for user, at in LEAVES:
        telegram.push_member(CHAT, user, "leave", at=at)
    for said in CONVERSATION:
        telegram.push_group_message(
            CHAT,
            said.user,
            said.text,
            message_id=said.message_id,
            thread_id=said.thread_id,
            reply_to=said.reply_to,
            entities=said.entities(),
            content_type=said.content_type,
            forwarded=said.forwarded,
            at=said.at,
        )


def _react(telegram: FakeTelegram) -> None:
    """Push the reactions, once their messages are stored: the updates are handled
    concurrently, and ingest counts a reaction only on a message it has stored."""
    by_id = {said.message_id: said for said in CONVERSATION}
    for reactor, message_id, old, new in REACTIONS:
        at = by_id[message_id].at + timedelta(hours=1)
        telegram.push_reaction(CHAT, reactor, message_id, old=old, new=new, at=at)


def _expected() -> tuple[int, int, int]:
    """The journey's (messages, joins and leaves, reactions standing)."""
    members = len(JOINS) + len(LEAVES)
    return len(CONVERSATION), members, sum(len(emoji) for emoji in standing().values())


def _messages_stored(state: Journey) -> Callable[[], Awaitable[int]]:
    """The number of the conversation's messages stored."""

    async def probe() -> int:
        return (await _stored(state)())[0]

    return probe


def _stored(state: Journey) -> Callable[[], Awaitable[tuple[int, int, int]]]:
    """The chat's stored (messages of the conversation, joins and leaves, reactions)."""

    async def probe() -> tuple[int, int, int]:
        async with state.engine.connect() as connection:
            row = (
                await connection.execute(
                    text(
                        "SELECT (SELECT count(*) FROM messages WHERE chat_id = :chat"
                        "   AND message_id BETWEEN :first AND :last),"
                        " (SELECT count(*) FROM member_events WHERE chat_id = :chat),"
                        " (SELECT count(*) FROM reactions WHERE chat_id = :chat)"
                    ),
                    {
                        "chat": CHAT,
                        "first": CONVERSATION[0].message_id,
                        "last": CONVERSATION[-1].message_id,
                    },
                )
            ).one()
        return int(row[0]), int(row[1]), int(row[2])

    return probe


async def test_settings_are_an_admins_to_change(journey: Journey) -> None:
    """/settings timezone and the "Store message text" button by an administrator are applied
    (the card shows the zone, the press is saved, the dashboard reads both); a member's
    command is refused with a reply, their press with a popup, and nothing changes."""
    refused = "Only this chat's administrators can change its settings."
    assert f"Time zone: <code>{ZONE}</code>" in journey.settings_replies[ADMIN]
    assert journey.presses[ADMIN].notice == "Saved; it takes effect in a few seconds."
    assert journey.settings_replies[MEMBER] == refused
    assert (journey.presses[MEMBER].notice, journey.presses[MEMBER].alert) == (refused, True)
    async with journey.api() as api:
        stored = (await api.get(f"/api/chats/{CHAT}/settings")).json()
    assert ChatSettings.model_validate(stored) == ChatSettings(timezone=ZONE, store_text=True)


async def test_me_counts_the_askers_november(journey: Journey) -> None:
    """/me 2025-11 from Ada: her messages, words and active days of November in Tokyo (the
    1 Nov message, still October in UTC, included), her rank, whom she replied to, and the
    reactions she received and gave on November's messages."""
    card = (await journey.ask(ADA, "/me 2025-11")).text
    hers = [said for said in said_in(NOVEMBER) if said.user == ADA]
    counts = Counter(said.user for said in said_in(NOVEMBER))
    rank = sorted(counts, key=lambda user: (-counts[user], user)).index(ADA) + 1
    reactions = reactions_in(NOVEMBER)
    received = sum(1 for _, said, _ in reactions if said.user == ADA)
    given = sum(1 for reactor, _, _ in reactions if reactor == ADA)
    by_id = {said.message_id: said for said in CONVERSATION}
    partners = Counter(by_id[s.reply_to].user for s in hers if s.reply_to)
    assert card.startswith(f"👤 <b>{label(ADA)}</b>, ") and f"({ZONE})" in card
    assert f"Messages: {len(hers)} (new)" in card
    assert f"Words: {sum(said.words() for said in hers)} (new)" in card
    assert f"Active days: {len({said.local_day() for said in hers})} (new)" in card
    assert f"Rank by messages: #{rank}" in card
    replied = _partners(partners)
    assert f"Replies to: {replied}" in card
    assert f"Reactions received: {received} (new)" in card
    assert f"Reactions given: {given} (new)" in card


def _partners(counts: Counter[int]) -> str:
    """Reply partners as the card lists them: most replies first, then by user id."""
    ranked = sorted(counts, key=lambda user: (-counts[user], user))
    return ", ".join(f"{label(user)} ({counts[user]})" for user in ranked)


async def test_user_shows_another_members_card(journey: Journey) -> None:
    """/user @ben 2025-11, asked by Cy: Ben's card, with who replied to him."""
    card = (await journey.ask(CY, "/user @ben 2025-11")).text
    his = [said for said in said_in(NOVEMBER) if said.user == BEN]
    repliers = Counter(
        said.user
        for said in said_in(NOVEMBER)
        if said.reply_to in {mine.message_id for mine in his}
    )
    assert card.startswith(f"👤 <b>{label(BEN)}</b>, ")
    assert f"Messages: {len(his)} (new)" in card
    assert f"Words: {sum(said.words() for said in his)} (new)" in card
    replied_by = _partners(repliers)
    assert f"Replied to by: {replied_by}" in card


async def test_top_by_reactions_of_november_on_tokyos_calendar(journey: Journey) -> None:
    """/top 5 by reactions 2025-11: the members whose November (Tokyo) messages received the
    most reactions standing (one taken back not counted; those on the 1 Dec Tokyo message
    left out, those on the 1 Nov one in)."""
    card = (await journey.ask(CY, "/top 5 by reactions 2025-11")).text
    received = Counter(said.user for _, said, _ in reactions_in(NOVEMBER))
    ranked = sorted(received, key=lambda user: (-received[user], user))[:5]
    rows = [f"{n}. {label(user)} — {received[user]}" for n, user in enumerate(ranked, 1)]
    assert card.splitlines()[0].startswith("🏆 <b>Top by reactions received</b>, ")
    assert "Nov 2025" in card.splitlines()[0] and f"({ZONE})" in card.splitlines()[0]
    assert card.splitlines()[1:] == rows


async def test_dashboard_link_opens_this_chat_alone(journey: Journey) -> None:
    """/dashboard by a member is refused; by the admin it says the link went privately, and
    the link in the private message opens this chat's page and API (with November's figures
    of the conversation) and neither another chat's page or API nor the chat list (403)."""
    refused = await journey.ask(MEMBER, "/dashboard")
    assert refused.text == "Only this chat's administrators may open its dashboard."
    link = await _dashboard_link(journey)
    async with httpx.AsyncClient(base_url=journey.dashboard) as browser:
        page = await browser.get(link)
        assert page.status_code == 200 and f'data-chat-id="{CHAT}"' in page.text
        period = {"from": NOVEMBER[0].isoformat(), "to": NOVEMBER[1].isoformat()}
        summary = await browser.get(f"/api/chats/{CHAT}/summary", params=period)
        assert summary.status_code == 200, summary.text
        november = said_in(NOVEMBER)
        assert summary.json()["messages"]["value"] == len(november)
        assert summary.json()["active_users"]["value"] == len({s.user for s in november})
        assert summary.json()["new_members"]["value"] == len(JOINS)
        assert summary.json()["left_members"]["value"] == len(LEAVES)
        assert (await browser.get(f"/api/chats/{OTHER_CHAT}")).status_code == 403
        assert (await browser.get(f"/api/chats/{OTHER_CHAT}/summary")).status_code == 403
        assert (await browser.get("/api/chats")).status_code == 403
        other = await browser.get(f"/chats/{OTHER_CHAT}?link={_token(link)}")
        assert other.status_code == 403


async def _dashboard_link(journey: Journey) -> str:
    """The link the bot sent the admin privately after /dashboard (the group told so)."""
    said = await journey.ask(ADMIN, "/dashboard")
    assert said.text == "I sent you the dashboard link in a private message."
    [private] = await journey.telegram.wait_sent(count=1, timeout=TIMEOUT_S, chat_id=ADMIN)
    url = private.text.split()[-1]
    assert url.startswith(f"{journey.dashboard}/chats/{CHAT}?link=")
    return url


def _token(link: str) -> str:
    return urlparse(link).query.removeprefix("link=")


async def test_the_weekly_digest_counts_its_week(journey: Journey) -> None:
    """/digest on weekly by the admin; the alerts service's scheduler, on a clock set to
    the Monday after 17-23 Nov 2025 (Tokyo), posts the /stats card of that week in the chat:
    its messages, active people, average DAU and joins, counted from the conversation."""
    reply = await journey.ask(ADMIN, "/digest on weekly")
    assert "weekly" in reply.text.lower()
    subjects = Subjects(journey.settings.subject_prefix)
    client = await nats.connect(journey.settings.nats_url)
    broker = NatsBroker(journey.settings.nats_url)
    await broker.connect()
    try:
        bucket = await client.jetstream().key_value(subjects.digests_bucket)
        entry = DigestEntry.model_validate_json((await bucket.get(str(CHAT))).value or b"")
        assert entry.schedule == "weekly"
        # Turned on before that week: nothing of it sent yet.
        await bucket.put(
            str(CHAT), entry.model_copy(update={"last_sent": None}).model_dump_json().encode()
        )
        scheduler = DigestScheduler(
            broker, subjects, DigestMetrics(CollectorRegistry()), report_timeout_s=TIMEOUT_S
        )
        monday = datetime.combine(WEEK[1] + timedelta(days=1), datetime.min.time(), TOKYO)
        assert await scheduler.tick(monday + timedelta(minutes=30)) == 1
    finally:
        await broker.stop()
        await client.close()
    [card] = await journey.telegram.wait_sent(count=1, timeout=TIMEOUT_S, chat_id=CHAT)
    week = said_in(WEEK)
    days = (WEEK[1] - WEEK[0]).days + 1
    posters_by_day = {(said.local_day(), said.user) for said in week}
    dau = round(len(posters_by_day) / days, 1)
    joins = sum(1 for _, at, _ in JOINS if _in(at.date(), WEEK))
    leaves = sum(1 for _, at in LEAVES if _in(at.date(), WEEK))
    assert "17–23 Nov 2025" in card.text and f"({ZONE})" in card.text
    assert f"Messages: {len(week)}" in card.text
    assert f"Active people: {len({s.user for s in week})}" in card.text
    assert f"Average DAU: {format_number(dau, 'en')}" in card.text
    assert f"Joined: {joins} · Left: {leaves}" in card.text


def _export() -> dict[str, Any]:
    """The chat's October history as Telegram Desktop exports it."""
    export = ExportBuilder(BARE, EXPORT_TITLE, start=HISTORY_START, first_id=HISTORY_FIRST_ID)
    for user, name in HISTORY:
        export.message(user, name, "old times")
    return export.export()


async def test_an_imported_export_counts_in_the_reports(journey: Journey, tmp_path: Path) -> None:
    """``tally import-chat`` of the chat's October export: once ingest has stored it,
    /stats and /top over October and November count its messages with the live ones."""
    (tmp_path / "result.json").write_text(json.dumps(_export()), encoding="utf-8")
    environment = {
        "NATS_URL": journey.settings.nats_url,
        "DATABASE_URL": journey.settings.database_url,
        "SUBJECT_PREFIX": journey.settings.subject_prefix,
        "COLUMNS": "200",
    }
    result = await asyncio.to_thread(
        CliRunner().invoke, cli, ["import-chat", str(tmp_path)], env=environment
    )
    assert result.exit_code == 0, result.output

    async def imported() -> object:
        return await journey.scalar(
            "SELECT count(*) FROM messages WHERE chat_id = :chat"
            " AND message_id BETWEEN :first AND :last",
            first=HISTORY_FIRST_ID,
            last=HISTORY_FIRST_ID + len(HISTORY) - 1,
        )

    await journey.until("the export's messages stored", imported, len(HISTORY))
    span = (date(2025, 10, 1), NOVEMBER[1])
    live = said_in(span)
    card = (await journey.ask(ADA, f"/stats {span[0]}..{span[1]}")).text
    assert f"Messages: {len(live) + len(HISTORY)}" in card
    writers = {s.user for s in live} | {user for user, _ in HISTORY}
    assert f"Active people: {len(writers)}" in card
    top = (await journey.ask(BEN, f"/top 3 {span[0]}..{span[1]}")).text
    counts = Counter([s.user for s in live] + [user for user, _ in HISTORY])
    leader = max(counts, key=lambda user: (counts[user], -user))
    assert f"1. {label(leader)} — {counts[leader]} (" in top


def _sent_export() -> bytes:
    """The chat's September history as Telegram Desktop exports it (``result.json``)."""
    export = ExportBuilder(BARE, EXPORT_TITLE, first_id=1)
    for user, at in SENT:
        export.message(user, NAMES[user], "summer plans", at=at)
    return json.dumps(export.export(), ensure_ascii=False).encode()


async def test_an_export_sent_by_an_admin_counts_once(journey: Journey) -> None:
    """The admin sends the chat's September export to the bot privately: the bot's last reply
    names the chat and the events, and once ingest stored them, /stats and /top over
    September (Tokyo: the 1 Sep 00:30 message, still August in UTC, included) count exactly
    the export's messages. Sent again, nothing is new to the stream and the reports are the
    same; a member's copy is refused with a sentence and publishes nothing."""
    content = _sent_export()
    journey.telegram.push_document(ADMIN, ADMIN, content)
    reading, done = await journey.telegram.wait_sent(2, timeout=TIMEOUT_S, chat_id=ADMIN)
    assert reading.text == f"Importing the history of “{EXPORT_TITLE}”: {len(SENT)} messages…"
    events = len(SENT)  # one message event each: no edits, reactions or service records
    assert done.text == (
        f"Imported “{EXPORT_TITLE}” ({CHAT}): {events} events ({len(SENT)} messages), "
        f"{events} new to the stream.\nMessage text: kept (this chat stores text)."
    )

    async def stored() -> object:
        return await journey.scalar(
            "SELECT count(*) FROM messages WHERE chat_id = :chat AND message_id <= :last",
            last=len(SENT),
        )

    await journey.until("the sent export's messages stored", stored, len(SENT))
    stats = (await journey.ask(CY, "/stats 2025-09")).text
    _counts_september(stats)
    top = (await journey.ask(CY, "/top 3 2025-09")).text
    counts = Counter(user for user, _ in SENT)
    days = {user: len({at.date() for who, at in SENT if who == user}) for user in counts}
    ranked = sorted(counts, key=lambda user: (-counts[user], user))[:3]
    rows = [f"{n}. {label(u)} — {counts[u]} ({days[u]} d)" for n, u in enumerate(ranked, 1)]
    assert top.splitlines()[1:] == rows

    published = await journey.events_published()
    journey.telegram.push_document(ADMIN, ADMIN, content, file_name="copy.json")
    _, again = await journey.telegram.wait_sent(2, timeout=TIMEOUT_S, chat_id=ADMIN)
    assert f"({events} messages), 0 new to the stream." in again.text, again.text
    assert "Nothing new: this history was imported before" in again.text
    assert await journey.events_published() == published
    again_stats = (await journey.ask(CY, "/stats 2025-09")).text
    # The title (line 1) is the last one stored: the export's or the live messages'.
    assert again_stats.splitlines()[1:] == stats.splitlines()[1:]
    assert (await journey.ask(CY, "/top 3 2025-09")).text == top

    published = await journey.events_published()  # the commands asked since are events too
    journey.telegram.push_document(MEMBER, MEMBER, content)
    [refused] = await journey.telegram.wait_sent(1, timeout=TIMEOUT_S, chat_id=MEMBER)
    assert refused.text.startswith(f"Only administrators of “{EXPORT_TITLE}” can import")
    assert await journey.events_published() == published
    assert await stored() == len(SENT)


def _counts_september(card: str) -> None:
    """The /stats card of September: the export's messages and writers (new: nothing of the
    journey is older), its average DAU over September's 30 days, and no joins or leaves."""
    lines = card.splitlines()
    posters_by_day = {(at.date(), user) for user, at in SENT}
    days = (SEPTEMBER[1] - SEPTEMBER[0]).days + 1
    joins = sum(1 for _, at, _ in JOINS if _in(at.date(), SEPTEMBER))
    leaves = sum(1 for _, at in LEAVES if _in(at.date(), SEPTEMBER))
    assert "1–30 Sep 2025" in lines[0] and f"({ZONE})" in lines[0]
    assert f"Messages: {len(SENT)} (new)" in lines
    assert f"Active people: {len({user for user, _ in SENT})} (new)" in lines
    assert f"Average DAU: {format_number(round(len(posters_by_day) / days, 1), 'en')}" in lines
    assert f"Joined: {joins} · Left: {leaves}" in lines


async def test_members_shows_the_days_member_count(journey: Journey) -> None:
    """The gateway's daily snapshot (its entry point, on today's clock) takes the chat's member
    count from Telegram; once ingest stored the day's row, /members for today (Tokyo) shows
    it, and the dashboard's member flow for today lists it."""
    journey.telegram.set_member_count(CHAT, MEMBER_COUNT)
    first = datetime.now(TOKYO).date()
    taken = await journey.gateway.member_counts.take(datetime.now(UTC))
    assert taken == len([CHAT])  # the one chat with events on this journey's subjects
    last = datetime.now(TOKYO).date()  # the same day unless the snapshot straddled midnight

    async def rows() -> object:
        return await journey.scalar("SELECT count(*) FROM member_counts WHERE chat_id = :chat")

    await journey.until("the day's member count stored", rows, 1)
    card = (await journey.ask(CY, f"/members {first}..{last}")).text
    assert {f"Members: {MEMBER_COUNT} on {day:%d.%m}" for day in (first, last)} & set(
        card.splitlines()
    ), card
    period = {"from": first.isoformat(), "to": last.isoformat()}
    async with journey.api() as api:
        flow = (await api.get(f"/api/chats/{CHAT}/members/flow", params=period)).json()
    assert flow["member_counts"] in [
        [{"day": day.isoformat(), "count": MEMBER_COUNT}] for day in (first, last)
    ], flow


CHROMIUM = Path("/usr/bin/chromium")
PANELS = {
    "content": "content",
    "reactions": "reactions?limit=10",
    "replies": "replies?limit=10",
    "topics": "topics",
    "flow": "members/flow?limit=10",
    "top": "top?by=messages&limit=10",
    "words": "words?limit=15",
    "settings": "settings",
}
"""The API routes behind the chat page's group panels, with the page's limits."""


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not at /usr/bin/chromium")
async def test_the_group_panels_show_the_apis_numbers(journey: Journey) -> None:
    """The link the bot sent, opened in Chromium: the chat's page, for November, shows the
    API's content, reactions, replies, topics, members, top and words figures and the chat's
    settings, and the API's figures are the conversation's."""
    link = await _dashboard_link(journey)
    period = {"from": NOVEMBER[0].isoformat(), "to": NOVEMBER[1].isoformat()}
    base = f"/api/chats/{CHAT}"
    async with journey.api() as api:
        answers = {
            name: (await api.get(f"{base}/{route}", params=period)).json()
            for name, route in PANELS.items()
        }
    _the_api_agrees_with_the_conversation(answers)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            tab = await (await browser.new_context()).new_page()
            errors: list[str] = []
            tab.on("pageerror", lambda error: errors.append(str(error)))
            await tab.goto(link)
            await expect(tab.locator("#login")).to_be_hidden()
            await expect(tab.locator("#chat-timezone")).to_have_text(ZONE)
            await tab.fill("#from", period["from"])
            await tab.fill("#to", period["to"])
            await tab.click("#apply")
            await _panels_show(tab, answers)
            assert errors == []
        finally:
            await browser.close()


def _the_api_agrees_with_the_conversation(answers: dict[str, Any]) -> None:
    """The panels' API answers for November are the conversation's counts."""
    november = said_in(NOVEMBER)
    by_id = {said.message_id: said for said in CONVERSATION}
    content = answers["content"]
    kinds = Counter(e["type"] for said in november for e in said.entities())
    replies = [said for said in november if said.reply_to]
    assert (content["messages"], content["forwards"], content["replies"]) == (
        len(november),
        sum(1 for said in november if said.forwarded),
        len(replies),
    )
    assert (content["links"], content["mentions"], content["hashtags"]) == (
        kinds["url"],
        kinds["mention"],
        kinds["hashtag"],
    )
    tags = Counter(
        (said.text or "")[e["offset"] + 1 : e["offset"] + e["length"]]
        for said in november
        for e in said.entities()
        if e["type"] == "hashtag"
    )
    assert {t["tag"]: t["count"] for t in content["top_hashtags"]} == dict(tags)
    types = {t["message_type"]: t["messages"] for t in content["by_type"]}
    assert types == dict(Counter(said.content_type for said in november))
    reactions = reactions_in(NOVEMBER)
    assert answers["reactions"]["total"] == len(reactions)
    assert _members(answers["reactions"]["received"]) == Counter(s.user for _, s, _ in reactions)
    assert _members(answers["reactions"]["given"]) == Counter(r for r, _, _ in reactions)
    emoji = {e["emoji"]: e["count"] for e in answers["reactions"]["top_emoji"]}
    assert emoji == dict(Counter(e for _, _, e in reactions))
    pairs = Counter((said.user, by_id[said.reply_to].user) for said in replies if said.reply_to)
    found = answers["replies"]
    assert found["replies"] == len(replies)
    assert {
        (p["replier"]["user_id"], p["replied_to"]["user_id"]): p["replies"]
        for p in found["top_pairs"]
    } == dict(pairs)
    topics = answers["topics"]["topics"]
    assert {t["thread_id"]: t["messages"] for t in topics} == dict(
        Counter(said.thread_id for said in november)
    )
    posters = {
        t: {s.user for s in november if s.thread_id == t} for t in {s.thread_id for s in november}
    }
    assert {t["thread_id"]: t["members"] for t in topics} == {t: len(u) for t, u in posters.items()}
    flow = answers["flow"]
    joined, left = {user for user, _, _ in JOINS}, {user for user, _ in LEAVES}
    assert (flow["joins"], flow["leaves"], flow["via_link"], flow["added"], flow["churned"]) == (
        len(JOINS),
        len(LEAVES),
        sum(1 for _, _, inviter in JOINS if inviter is None),
        sum(1 for _, _, inviter in JOINS if inviter is not None),
        len(joined & left),
    )
    inviters = Counter(inviter for _, _, inviter in JOINS if inviter is not None)
    assert _members(flow["top_inviters"]) == inviters
    assert _members(answers["top"]["items"]) == Counter(said.user for said in november)
    assert answers["settings"]["timezone"] == ZONE
    [top_word, *_] = answers["words"]["words"]["en"]
    assert top_word == {"word": "route", "count": _count_word("route", november)}


def _count_word(word: str, said: list[Said]) -> int:
    return sum(s.text.replace(",", " ").split().count(word) for s in said if s.text)


def _members(items: list[dict[str, Any]]) -> Counter[int]:
    """An API list of (member, count) as counts by user id."""
    return Counter({item["member"]["user_id"]: item["count"] for item in items})


async def _panels_show(tab: Any, answers: dict[str, Any]) -> None:
    content = answers["content"]
    for key in ("messages", "links", "mentions", "hashtags", "forwards", "replies"):
        await expect(tab.locator(f"#content-{key}")).to_have_text(shown(content[key]))
    reactions = answers["reactions"]
    await expect(tab.locator("#reactions-total")).to_have_text(shown(reactions["total"]))
    emoji = tab.locator("#reaction-emoji tbody tr")
    await expect(emoji).to_have_count(len(reactions["top_emoji"]))
    for row, item in enumerate(reactions["top_emoji"]):
        await expect(emoji.nth(row).locator(".emoji")).to_have_text(item["emoji"])
        await expect(emoji.nth(row).locator(".count")).to_have_text(shown(item["count"]))
    for table, key in (("reactions-received", "received"), ("reactions-given", "given")):
        await _counted_rows(tab, table, reactions[key])
    replies = answers["replies"]
    await expect(tab.locator("#replies-count")).to_have_text(shown(replies["replies"]))
    pairs = tab.locator("#reply-pairs tbody tr")
    await expect(pairs).to_have_count(len(replies["top_pairs"]))
    topics = tab.locator("#topics tbody tr")
    await expect(topics).to_have_count(len(answers["topics"]["topics"]))
    for row, topic in enumerate(answers["topics"]["topics"]):
        await expect(topics.nth(row).locator(".messages")).to_have_text(shown(topic["messages"]))
        await expect(topics.nth(row).locator(".members")).to_have_text(shown(topic["members"]))
    flow = answers["flow"]
    for key in ("joins", "leaves", "via_link", "added", "churned"):
        await expect(tab.locator(f"#flow-{key}")).to_have_text(shown(flow[key]))
    await _counted_rows(tab, "inviters", flow["top_inviters"])
    await _counted_rows(tab, "top-members", answers["top"]["items"])
    tags = tab.locator("#hashtags tbody tr")
    await expect(tags).to_have_count(len(content["top_hashtags"]))
    for row, tag in enumerate(content["top_hashtags"]):
        await expect(tags.nth(row).locator(".tag")).to_have_text(f"#{tag['tag']}")
        await expect(tags.nth(row).locator(".count")).to_have_text(shown(tag["count"]))
    words = tab.locator("#words-en tbody tr")
    await expect(words).to_have_count(len(answers["words"]["words"]["en"]))
    for row, word in enumerate(answers["words"]["words"]["en"]):
        await expect(words.nth(row).locator(".word")).to_have_text(word["word"])
        await expect(words.nth(row).locator(".count")).to_have_text(shown(word["count"]))
    chat_settings = answers["settings"]
    await expect(tab.locator("#setting-timezone")).to_have_value(chat_settings["timezone"])
    stored = ChatSettings.model_validate(chat_settings)
    assert await tab.locator("#setting-store-text").is_checked() == stored.store_text


async def _counted_rows(tab: Any, table: str, items: list[dict[str, Any]]) -> None:
    """Table ``table`` lists ``items`` (member label, count) in order."""
    rows = tab.locator(f"#{table} tbody tr")
    if not items:
        return
    await expect(rows).to_have_count(len(items))
    for row, item in enumerate(items):
        await expect(rows.nth(row).locator(".name")).to_have_text(item["member"]["label"])
        await expect(rows.nth(row).locator(".count")).to_have_text(shown(item["count"]))
