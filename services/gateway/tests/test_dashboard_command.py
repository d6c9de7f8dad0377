"""/dashboard in groups, without any server: a chat admin gets a signed link privately, a
member is refused, an admin who never started the bot is told to, and without a secret the
links are off. Fed to the Dispatcher (``feed_update``) with a Bot whose session answers from
memory and FastStream's in-memory bus."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.methods.base import TelegramType
from faststream.nats import TestNatsBroker
from prometheus_client import CollectorRegistry

from services.gateway.tests.test_dispatcher import SUBJECTS, Harness
from services.gateway.tests.test_group_commands import (
    ADMIN,
    GROUP,
    MEMBER,
    GroupSession,
    _group_message,
    _record,
)
from tally.contracts.dashboard_link import LINK_QUERY, verify
from tally.contracts.events import AdminAuditEvent
from tally.gateway.app import create_broker_for
from tally.gateway.config import GatewaySettings
from tally.gateway.context import GatewayContext
from tally.gateway.handlers import provide_context
from tally.gateway.metrics import GatewayMetrics
from tally.gateway.telegram.dashboard_link import text
from tally.gateway.telegram.dispatcher import create_dispatcher, release_routers
from tally.testing.kv import MemoryKeyValue
from tally.testing.telegram import DEFAULT_TOKEN

SECRET = "s" * 40
PUBLIC_URL = "https://tally.example.org/"


class PrivateSession(GroupSession):
    """A GroupSession whose private messages to the users in ``blocked`` are refused as
    Telegram refuses a bot the user never started (403)."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked: set[int] = set()

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109  # aiogram's BaseSession signature
    ) -> TelegramType:
        if isinstance(method, SendMessage) and method.chat_id in self.blocked:
            self.requests.append(method)
            raise TelegramForbiddenError(
                method=method, message="Forbidden: bot can't initiate conversation with a user"
            )
        return await super().make_request(bot, method, timeout)


async def _gateway(**dashboard: Any) -> AsyncIterator[Harness]:
    settings = GatewaySettings(
        bot_token=DEFAULT_TOKEN,
        subject_prefix=SUBJECTS.prefix,
        throttle_interval_s=0,
        group_throttle_interval_s=0,
        **dashboard,
    )
    broker = create_broker_for(settings, SUBJECTS)
    session = PrivateSession()
    bot = Bot(DEFAULT_TOKEN, session=session)
    registry = CollectorRegistry()
    ctx = GatewayContext.create(
        settings, subjects=SUBJECTS, bot=bot, broker=broker, metrics=GatewayMetrics(registry)
    )
    ctx.state.use(MemoryKeyValue())
    provide_context(broker, ctx)
    published: dict[str, list[dict[str, Any]]] = {}
    harness = Harness(create_dispatcher(ctx), bot, session, registry, broker, published)
    _record(broker, SUBJECTS.admin_audit, SUBJECTS.activity_stream, published)
    async with TestNatsBroker(broker):
        yield harness
    release_routers(harness.dispatcher)


@pytest.fixture
async def gateway() -> AsyncIterator[Harness]:
    async for harness in _gateway(
        dashboard_link_secret=SECRET, dashboard_public_url=PUBLIC_URL, dashboard_link_ttl_s=600
    ):
        yield harness


@pytest.fixture
async def links_off() -> AsyncIterator[Harness]:
    async for harness in _gateway(dashboard_public_url=PUBLIC_URL):
        yield harness


def _audits(harness: Harness) -> list[AdminAuditEvent]:
    bodies = harness.published.get(SUBJECTS.admin_audit, [])
    return [AdminAuditEvent.model_validate(body) for body in bodies]


async def test_an_admin_gets_a_link_for_the_chat_privately(gateway: Harness) -> None:
    """The admin gets, in their private chat, the chat's page with a token that ``verify``
    accepts for this chat and this admin, for the TTL; the group only hears it was sent."""
    before = datetime.now(UTC)
    await gateway.feed(_group_message("/dashboard", user_id=ADMIN))

    private, public = gateway.session.sent()
    assert private.chat_id == ADMIN
    [url] = [word for word in private.text.split() if word.startswith("https://")]
    parsed = urlparse(url)
    assert (parsed.netloc, parsed.path) == ("tally.example.org", f"/chats/{GROUP}")
    [token] = parse_qs(parsed.query)[LINK_QUERY]
    grant = verify(token, SECRET, datetime.now(UTC))
    assert (grant.chat_id, grant.user_id) == (GROUP, ADMIN)
    lifetime = grant.expires_at - before
    assert timedelta(seconds=598) <= lifetime <= timedelta(seconds=601)
    assert public.chat_id == GROUP
    assert public.text == text("sent", "en")
    assert "https://" not in public.text
    [audit] = _audits(gateway)
    assert (audit.command, audit.user_id, audit.chat_id, audit.allowed) == (
        "dashboard",
        ADMIN,
        GROUP,
        True,
    )


async def test_a_member_is_refused_and_no_link_is_made(gateway: Harness) -> None:
    await gateway.feed(_group_message("/dashboard", user_id=MEMBER))

    [reply] = gateway.session.sent()
    assert (reply.chat_id, reply.text) == (GROUP, text("refused", "en"))
    [audit] = _audits(gateway)
    assert (audit.command, audit.user_id, audit.allowed) == ("dashboard", MEMBER, False)


async def test_an_admin_who_never_started_the_bot_is_told_to_in_the_group(
    gateway: Harness,
) -> None:
    """Telegram refuses the private message (403): the group hears how to fix it, and never
    the link."""
    assert isinstance(gateway.session, PrivateSession)
    gateway.session.blocked.add(ADMIN)

    await gateway.feed(_group_message("/dashboard", user_id=ADMIN))

    attempt, hint = gateway.session.sent()
    assert attempt.chat_id == ADMIN
    assert (hint.chat_id, hint.text) == (GROUP, text("start_first", "en"))


async def test_without_a_secret_links_are_off(links_off: Harness) -> None:
    await links_off.feed(_group_message("/dashboard", user_id=ADMIN, language="ru"))

    [reply] = links_off.session.sent()
    assert (reply.chat_id, reply.text) == (GROUP, text("off", "ru"))


def test_a_short_secret_is_refused_at_start() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        GatewaySettings(bot_token=DEFAULT_TOKEN, dashboard_link_secret="short")
