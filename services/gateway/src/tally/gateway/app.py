"""The gateway process: a Bot, its Dispatcher and a NatsBroker, made and run together.

``create_app`` is what ``__main__`` serves (``/metrics``, ``/health``); ``running_gateway``
runs the same thing in-process for tests and tools.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from faststream.asgi import AsgiFastStream
from faststream.nats import NatsBroker
from prometheus_client import CollectorRegistry

from tally.common import broker as common_broker
from tally.common.subjects import Subjects
from tally.gateway.chat_settings import ChatSettingsView
from tally.gateway.config import GatewaySettings
from tally.gateway.domain.memory import LastAnswers, PendingChoices
from tally.gateway.handlers import create_router
from tally.gateway.metrics import GatewayMetrics
from tally.gateway.telegram.dispatcher import allowed_updates, create_dispatcher, release_routers
from tally.gateway.telegram.ratelimit import GroupRateLimit

log = structlog.get_logger(__name__)


def create_bot(settings: GatewaySettings) -> Bot:
    """A Bot for ``BOT_TOKEN`` talking to ``TELEGRAM_API_BASE`` (default: api.telegram.org),
    keeping Telegram's per-group sending limits (:class:`GroupRateLimit`).

    Raises ConfigurationError when the token is missing.
    """
    token = settings.require_bot_token().get_secret_value()
    base = settings.telegram_api_base
    api = TelegramAPIServer.from_base(base) if base else PRODUCTION
    session = AiohttpSession(api=api)
    session.middleware(
        GroupRateLimit(
            per_second=settings.group_sends_per_second,
            per_minute=settings.group_sends_per_minute,
        )
    )
    return Bot(token, session=session)


def create_broker_for(
    settings: GatewaySettings,
    *,
    bot: Bot,
    metrics: GatewayMetrics,
    last_answers: LastAnswers,
    pending_choices: PendingChoices,
    registry: CollectorRegistry | None = None,
) -> NatsBroker:
    """The gateway's NatsBroker with its answer and alert subscribers included."""
    broker = common_broker.create_broker(settings, service="gateway", registry=registry)
    router = create_router(
        settings,
        bot=bot,
        metrics=metrics,
        last_answers=last_answers,
        pending_choices=pending_choices,
    )
    broker.include_router(router)
    return broker


class Gateway:
    """Owns the Bot, the Dispatcher and the NatsBroker of one gateway; polls while started.

    Only one Gateway per process may exist until it is closed (aiogram routers are
    module-level).
    """

    def __init__(
        self, settings: GatewaySettings, *, registry: CollectorRegistry | None = None
    ) -> None:
        self.subjects = Subjects(settings.subject_prefix)
        self.registry = registry or CollectorRegistry()
        self.metrics = GatewayMetrics(self.registry)
        self.bot = create_bot(settings)
        self.last_answers = LastAnswers()
        self.pending_choices = PendingChoices()
        self.chat_settings = ChatSettingsView()
        self.broker = create_broker_for(
            settings,
            bot=self.bot,
            metrics=self.metrics,
            last_answers=self.last_answers,
            pending_choices=self.pending_choices,
            registry=self.registry,
        )
        self.dispatcher = create_dispatcher(
            settings,
            broker=self.broker,
            metrics=self.metrics,
            last_answers=self.last_answers,
            pending_choices=self.pending_choices,
            chat_settings=self.chat_settings,
        )
        self._polling: asyncio.Task[None] | None = None

    async def start_polling(self) -> None:
        """Check the token with getMe, load the chat settings, start long polling in a task
        (asking for every update type captured), return once it runs.

        Raises aiogram's TelegramUnauthorizedError for a wrong token and TelegramNetworkError
        when the Bot API cannot be reached, so a misconfigured gateway fails at start.
        """
        me = await self.bot.get_me()
        await self.chat_settings.start(self.broker, self.subjects)
        updates = allowed_updates(self.dispatcher)
        log.info("polling telegram", bot=me.username, allowed_updates=updates)
        started = asyncio.Event()
        self.dispatcher.startup.register(started.set)
        self._polling = asyncio.create_task(
            self.dispatcher.start_polling(
                self.bot,
                handle_signals=False,
                close_bot_session=False,
                allowed_updates=updates,
            )
        )
        self._polling.add_done_callback(_report_end)
        waiter = asyncio.create_task(started.wait())
        await asyncio.wait({waiter, self._polling}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()

    async def stop_polling(self) -> None:
        """Stop polling (waiting for it to end) and following the chat settings; polling may
        start again (a fresh poll gets the updates not confirmed yet, as after a restart)."""
        if self._polling is not None and not self._polling.done():
            await self.dispatcher.stop_polling()
        await self.chat_settings.stop()

    async def close(self) -> None:
        """Let go of the routers and close the bot's HTTP session (after the broker stopped
        sending)."""
        release_routers(self.dispatcher)
        await self.bot.session.close()


def _report_end(polling: asyncio.Task[None]) -> None:
    if not polling.cancelled() and polling.exception() is not None:
        log.error("telegram polling ended", error=repr(polling.exception()))


def create_app(settings: GatewaySettings) -> AsgiFastStream:
    """The gateway's ASGI FastStream app: polls Telegram after the broker started, stops first."""
    gateway = Gateway(settings)
    return common_broker.create_app(
        gateway.broker,
        settings,
        registry=gateway.registry,
        after_startup=[gateway.start_polling],
        on_shutdown=[gateway.stop_polling],
        after_shutdown=[gateway.close],
    )


@contextlib.asynccontextmanager
async def running_gateway(
    settings: GatewaySettings, *, registry: CollectorRegistry | None = None
) -> AsyncIterator[Gateway]:
    """Run a Gateway in-process (broker started, polling) for the duration of the block."""
    gateway = Gateway(settings, registry=registry)
    await gateway.broker.start()
    try:
        await gateway.start_polling()
        yield gateway
    finally:
        await gateway.stop_polling()
        await gateway.broker.stop()
        await gateway.close()
