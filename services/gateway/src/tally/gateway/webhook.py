"""Telegram updates by webhook: a FastAPI endpoint that checks Telegram's secret token and
feeds each update to the Dispatcher, served by uvicorn on WEBHOOK_HOST:WEBHOOK_PORT.

Telegram posts each update as JSON to WEBHOOK_URL with the header
``X-Telegram-Bot-Api-Secret-Token`` set to the ``secret_token`` the gateway gave setWebhook
(https://core.telegram.org/bots/api#setwebhook). The header is compared in constant time
(``hmac.compare_digest``); a request without it or with another one is answered 401 and its
body is not read; a body over MAX_BODY_BYTES is answered 413, one that is not JSON or not an
Update 400. An accepted update is answered 200 at once and handled in a task, as aiogram's
SimpleRequestHandler does with ``handle_in_background``, so a slow handler never makes
Telegram wait and send the update again. Every request is counted in
``tally_gateway_webhook_requests_total{outcome}``; refusals are logged without the token.
"""

import asyncio
import contextlib
import hmac
import socket
from collections.abc import Iterator
from typing import Final

import structlog
import uvicorn
from aiogram import Bot, Dispatcher
from aiogram.types import Update
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from tally.gateway.config import WebhookConfig
from tally.gateway.metrics import GatewayMetrics
from tally.infra.errors import TallyError

SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY_BYTES: Final = 1_000_000
"""The largest update body accepted (bytes); Telegram's updates are a few kilobytes."""
DRAIN_TIMEOUT_S: Final = 10.0
"""How long stopping waits for updates still being handled (seconds) before cancelling them."""

log = structlog.get_logger(__name__)


class WebhookServerError(TallyError):
    """The webhook server ended before it took requests."""


class UpdateFeeder:
    """Handles each accepted update through ``dispatcher`` in a task of its own, keeping the
    tasks until they end so that stopping can wait for them."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot) -> None:
        self._dispatcher, self._bot = dispatcher, bot
        self._tasks: set[asyncio.Task[None]] = set()

    def feed(self, update: Update) -> None:
        """Start handling ``update``; returns at once."""
        task = asyncio.create_task(self._handle(update))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout_s: float = DRAIN_TIMEOUT_S) -> None:
        """Wait up to ``timeout_s`` seconds for the updates being handled, then cancel the rest."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _handle(self, update: Update) -> None:
        try:
            await self._dispatcher.feed_update(self._bot, update)
        except Exception:  # a task's last stop: logged, as aiogram's polling does
            log.exception("telegram update failed", update_id=update.update_id)


def create_webhook_app(
    config: WebhookConfig, *, bot: Bot, feeder: UpdateFeeder, metrics: GatewayMetrics
) -> FastAPI:
    """A FastAPI app with one route, ``POST config.path``, answering as the module says.

    No OpenAPI document or docs pages: the endpoint faces the internet.
    """
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    expected = config.secret.get_secret_value().encode()

    @app.post(config.path)
    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER)
        if given is None or not hmac.compare_digest(given.encode(), expected):
            return _refuse(request, metrics, missing=given is None)
        body = await _read_body(request, MAX_BODY_BYTES)
        if body is None:
            metrics.webhook("too_large")
            return _error(413, "Request Entity Too Large")
        try:
            update = Update.model_validate_json(body, context={"bot": bot})
        except ValidationError as error:
            metrics.webhook("malformed")
            log.warning("webhook body is not an update", errors=error.error_count())
            return _error(400, "Bad Request: not an update")
        feeder.feed(update)
        metrics.webhook("accepted")
        return JSONResponse({})

    return app


def _refuse(request: Request, metrics: GatewayMetrics, *, missing: bool) -> Response:
    metrics.webhook("unauthorized")
    client = request.client.host if request.client else None
    log.warning(
        "webhook request refused",
        reason="no secret token" if missing else "wrong secret token",
        client=client,
    )
    return _error(401, "Unauthorized")


def _error(status: int, description: str) -> Response:
    return JSONResponse({"ok": False, "description": description}, status_code=status)


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The request's body, or None as soon as it is known to exceed ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn Server that leaves signals to the process (the gateway stops it) and says
    when it takes requests (``ready``)."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        self.ready.set()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class WebhookServer:
    """uvicorn serving ``app`` on ``host``:``port`` (0: a free port) within this event loop."""

    def __init__(self, app: FastAPI, *, host: str, port: int) -> None:
        self.host, self.port = host, port
        config = uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=5,
        )
        self._server = _EmbeddedServer(config)
        self._serving: asyncio.Task[None] | None = None

    async def start(self) -> int:
        """Listen and serve; return the port listened on once requests are taken.

        Raises OSError when the address cannot be bound (in use, not local) and
        WebhookServerError when the server ended before taking requests.
        """
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.create_server((self.host, self.port), family=family)
        self.port = int(listener.getsockname()[1])
        self._serving = asyncio.create_task(self._server.serve(sockets=[listener]))
        ready = asyncio.create_task(self._server.ready.wait())
        await asyncio.wait({ready, self._serving}, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        if not self._server.started:
            self._serving.result()  # its error, if it failed
            raise WebhookServerError(f"the webhook server on {self.host}:{self.port} stopped")
        return self.port

    async def stop(self) -> None:
        """Stop taking requests and wait for those under way (at most 5 s)."""
        if self._serving is None:
            return
        self._server.should_exit = True
        await self._serving
        self._serving = None
