"""The gateway process: a Bot, its Dispatcher and a NatsBroker, made and run together.

Updates come by long polling, or by webhook when WEBHOOK_URL is set (:mod:`tally.gateway.webhook`).
``create_app`` is what ``__main__`` serves (``/metrics``, ``/health``); ``running_gateway``
runs the same thing in-process for tests and tools.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator

import structlog
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from faststream.asgi import AsgiFastStream
from faststream.nats import NatsBroker
from prometheus_client import CollectorRegistry

from tally.contracts.subjects import Subjects
from tally.gateway.config import GatewaySettings, WebhookConfig
from tally.gateway.context import GatewayContext
from tally.gateway.handlers import create_router, provide_context
from tally.gateway.metrics import GatewayMetrics
from tally.gateway.telegram.dispatcher import allowed_updates, create_dispatcher, release_routers
from tally.gateway.telegram.member_counts import MemberCountSnapshots
from tally.gateway.telegram.menu import register_commands
from tally.gateway.telegram.ratelimit import GroupRateLimit
from tally.gateway.webhook import UpdateFeeder, WebhookServer, create_webhook_app
from tally.runtime import broker as common_broker

log = structlog.get_logger(__name__)


REASK_CHECK_S = 0.5
"""How often late questions are looked for (seconds)."""
UPDATE_LOGGER = "aiogram.event"
"""aiogram's logger of each update handled (``Update id=... is handled. Duration ... ms``, at
INFO): one line per question took about a twentieth of the gateway's CPU time (BENCHMARKS.md,
"The gateway's CPU per question"), so it shows only at LOG_LEVEL=DEBUG; its warnings and
errors show at any level."""


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
    settings: GatewaySettings, subjects: Subjects, *, registry: CollectorRegistry | None = None
) -> NatsBroker:
    """The gateway's NatsBroker with its answer and alert subscribers included; they need a
    GatewayContext (:func:`tally.gateway.handlers.provide_context`) before the broker starts."""
    broker = common_broker.create_broker(settings, service="gateway", registry=registry)
    router = create_router(
        subjects,
        instance=settings.gateway_instance,
        reply_concurrency=settings.reply_concurrency,
    )
    broker.include_router(router)
    return broker


class Gateway:
    """Owns the Bot, the Dispatcher and the NatsBroker of one gateway; while started, polls or
    serves the webhook (``webhook`` is None in polling mode).

    Only one Gateway per process may exist until it is closed (aiogram routers are
    module-level). aiogram's line per update is logged only at LOG_LEVEL=DEBUG
    (:data:`UPDATE_LOGGER`). Raises ConfigurationError when the token is missing, or when
    WEBHOOK_URL is set without a valid WEBHOOK_SECRET.
    """

    def __init__(
        self, settings: GatewaySettings, *, registry: CollectorRegistry | None = None
    ) -> None:
        self.webhook: WebhookConfig | None = settings.require_webhook()
        debug = settings.log_level.upper() == "DEBUG"
        logging.getLogger(UPDATE_LOGGER).setLevel(logging.NOTSET if debug else logging.WARNING)
        self.subjects = Subjects(settings.subject_prefix)
        self.registry = registry or CollectorRegistry()
        self.metrics = GatewayMetrics(self.registry)
        self.bot = create_bot(settings)
        self.broker = create_broker_for(settings, self.subjects, registry=self.registry)
        self.context = GatewayContext.create(
            settings, subjects=self.subjects, bot=self.bot, broker=self.broker, metrics=self.metrics
        )
        provide_context(self.broker, self.context)
        self.dispatcher = create_dispatcher(self.context)
        self._polling: asyncio.Task[None] | None = None
        self._feeder = UpdateFeeder(self.dispatcher, self.bot)
        self._webhook_server: WebhookServer | None = None
        self._reasking: asyncio.Task[None] | None = None
        self.member_counts = MemberCountSnapshots(
            bot=self.bot,
            broker=self.broker,
            subjects=self.subjects,
            publisher=self.context.chat_events,
            metrics=self.metrics,
            at=settings.member_count_time,
            allowed=settings.allowed_chats(),
        )
        self._counting: asyncio.Task[None] | None = None

    @property
    def webhook_endpoint(self) -> str | None:
        """Where the webhook server listens (``http://host:port/path``), once started."""
        server, config = self._webhook_server, self.webhook
        if server is None or config is None:
            return None
        return f"http://{server.host}:{server.port}{config.path}"

    async def _reask(self) -> None:
        while True:
            await asyncio.sleep(REASK_CHECK_S)
            for question in self.context.reasks.due(time.monotonic()):
                self.metrics.message("reasked")
                await self.broker.publish(question, self.subjects.question_asked)

    async def _open_state(self) -> None:
        """Follow the chat settings and open the state shared with the other gateways."""
        await self.context.chat_settings.start(self.broker, self.subjects)
        await self.context.state.open(self.broker.connection.jetstream())

    async def start(self) -> None:
        """Receive updates: by webhook when WEBHOOK_URL is set, else by long polling; publish
        late questions again (domain.reasks); take the groups' member counts daily."""
        self._reasking = asyncio.create_task(self._reask(), name="reask")
        self._counting = asyncio.create_task(self.member_counts.run(), name="member-counts")
        if self.webhook is None:
            await self.start_polling()
        else:
            await self.start_webhook(self.webhook)

    async def stop(self) -> None:
        """Stop receiving updates, as started."""
        for task in (self._reasking, self._counting):
            if task is not None:
                task.cancel()
        self._reasking = self._counting = None
        if self.webhook is None:
            await self.stop_polling()
        else:
            await self.stop_webhook()

    async def start_webhook(self, config: WebhookConfig) -> None:
        """Check the token with getMe, register the command menu (:func:`register_commands`,
        never fatal), load the chat settings, open the shared state (tally.gateway.shared),
        serve the webhook endpoint, then
        call setWebhook (``config.url``, the secret token, every update type captured).

        Raises aiogram's TelegramAPIError subclasses like :meth:`start_polling`, and OSError
        when ``config.host``:``config.port`` cannot be listened on.
        """
        me = await self.bot.get_me()
        await register_commands(self.bot)
        await self._open_state()
        app = create_webhook_app(config, bot=self.bot, feeder=self._feeder, metrics=self.metrics)
        self._webhook_server = WebhookServer(app, host=config.host, port=config.port)
        port = await self._webhook_server.start()
        updates = allowed_updates(self.dispatcher)
        await self.bot.set_webhook(
            url=config.url,
            secret_token=config.secret.get_secret_value(),
            allowed_updates=updates,
        )
        log.info(
            "telegram webhook set",
            bot=me.username,
            url=config.url,
            listening=f"{config.host}:{port}{config.path}",
            allowed_updates=updates,
        )

    async def stop_webhook(self) -> None:
        """Stop serving the webhook, wait for the updates being handled, stop following the
        chat settings. The webhook stays set at Telegram, which keeps updates for a gateway
        that comes back (or another replica behind the same URL)."""
        if self._webhook_server is not None:
            await self._webhook_server.stop()
            self._webhook_server = None
        await self._feeder.drain()
        await self.context.chat_settings.stop()

    async def start_polling(self) -> None:
        """Check the token with getMe, register the command menu (never fatal), load the chat
        settings, open the shared state, delete any webhook (Telegram
        refuses getUpdates while one is set), start long polling in a task (asking for every
        update type captured), return once it runs.

        Raises aiogram's TelegramUnauthorizedError for a wrong token and TelegramNetworkError
        when the Bot API cannot be reached, so a misconfigured gateway fails at start.
        """
        me = await self.bot.get_me()
        await register_commands(self.bot)
        await self._open_state()
        await self.bot.delete_webhook()
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
        await self.context.chat_settings.stop()

    async def close(self) -> None:
        """Let go of the routers and close the bot's HTTP session (after the broker stopped
        sending)."""
        release_routers(self.dispatcher)
        await self.bot.session.close()


def _report_end(polling: asyncio.Task[None]) -> None:
    if not polling.cancelled() and polling.exception() is not None:
        log.error("telegram polling ended", error=repr(polling.exception()))


def create_app(settings: GatewaySettings) -> AsgiFastStream:
    """The gateway's ASGI FastStream app: receives Telegram's updates (polling or webhook)
    after the broker started, stops that first."""
    gateway = Gateway(settings)
    return common_broker.create_app(
        gateway.broker,
        settings,
        registry=gateway.registry,
        after_startup=[gateway.start],
        on_shutdown=[gateway.stop],
        after_shutdown=[gateway.close],
    )


@contextlib.asynccontextmanager
async def running_gateway(
    settings: GatewaySettings, *, registry: CollectorRegistry | None = None
) -> AsyncIterator[Gateway]:
    """Run a Gateway in-process (broker started, polling or serving the webhook) for the
    duration of the block."""
    gateway = Gateway(settings, registry=registry)
    await gateway.broker.start()
    try:
        await gateway.start()
        yield gateway
    finally:
        await gateway.stop()
        await gateway.broker.stop()
        await gateway.close()
