"""The dashboard app: the JSON API, the pages, /docs, /metrics and /health, built from settings.

One process serves everything on DASHBOARD_HOST:DASHBOARD_PORT. Its NATS broker (made by
:func:`tally.runtime.broker.create_broker`, with tracing and metrics) only publishes: settings
changes go to ingest through the CHAT_EVENTS stream. Reads go to PostgreSQL as the read-only
``tally_reader`` role. Each request is a server span (OpenTelemetry's FastAPI
instrumentation; /metrics and /health are left out) and each SQL statement a client span
under it (:func:`tally.infra.db.tracing.instrument_asyncpg`).

Without ADMIN_API_TOKEN, requests are answered only when their ``Host`` is a local name
(Starlette's TrustedHostMiddleware, 400 otherwise): the loopback check alone would let a web
page the admin visits read every chat and change settings through DNS rebinding, since the
browser's requests then come from 127.0.0.1 under the attacker's host name.

Responses of :data:`GZIP_MINIMUM_BYTES` or more are gzipped for clients that accept it
(Starlette's GZipMiddleware): plotly.min.js goes from 4.8 MB to 1.5 MB, the JSON series shrink
as much.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI, Request, status
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.middleware.trustedhost import TrustedHostMiddleware
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from prometheus_client import CollectorRegistry

from tally.chatstore.read import StatsRequestError
from tally.dashboard import api, health, web
from tally.dashboard.config import DashboardSettings
from tally.dashboard.db import UNAVAILABLE, dashboard_reader
from tally.dashboard.deps import Services
from tally.dashboard.metrics import RequestMetrics
from tally.infra.db.reader import DATABASE_ERRORS
from tally.infra.db.tracing import instrument_asyncpg
from tally.infra.errors import UserFacingError
from tally.runtime.broker import create_broker, declare_streams, subjects_of

SERVICE = "dashboard"
UNTRACED = "/metrics,/health"
"""Paths whose requests make no span (scrapes and probes), as the FastAPI instrumentation's
comma-separated ``excluded_urls``."""
LOCAL_NAMES = ("localhost", "127.0.0.1", "[::1]")
GZIP_MINIMUM_BYTES = 1024
"""Smaller responses are sent as they are: gzip saves little on them."""
"""``Host`` names a token-less dashboard answers (an IPv6 literal keeps its brackets)."""


def trusted_hosts(settings: DashboardSettings) -> list[str] | None:
    """The ``Host`` names answered: the local names and DASHBOARD_HOST when no admin token is
    set; None (any) with a token, which every API request must carry."""
    if settings.admin_api_token is not None:
        return None
    return sorted({*LOCAL_NAMES, settings.dashboard_host.lower()})


def _error(status_code: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status_code)


async def _user_facing(request: Request, error: Exception) -> JSONResponse:
    """A refused request is a 422 shaped like FastAPI's own validation errors (the schema the
    OpenAPI document promises: ``detail`` is a list of ``{loc, msg, type}``); anything else
    a user should read is a 503 with ``detail`` as a sentence."""
    assert isinstance(error, UserFacingError)
    if isinstance(error, StatsRequestError):
        problem = {"loc": ["query"], "msg": error.message, "type": "value_error"}
        return JSONResponse({"detail": [problem]}, status_code=422)
    return _error(status.HTTP_503_SERVICE_UNAVAILABLE, error.message)


async def _database_failed(request: Request, error: Exception) -> JSONResponse:
    if isinstance(error, asyncpg.QueryCanceledError):
        return _error(status.HTTP_503_SERVICE_UNAVAILABLE, "The query took too long.")
    return _error(status.HTTP_503_SERVICE_UNAVAILABLE, UNAVAILABLE)


def _services(settings: DashboardSettings) -> Services:
    registry = CollectorRegistry()
    broker = create_broker(settings, service=SERVICE, registry=registry)
    return Services(
        settings=settings,
        reader=dashboard_reader(settings),
        broker=broker,
        subjects=subjects_of(broker),
        registry=registry,
    )


def create_app(settings: DashboardSettings) -> FastAPI:
    """The dashboard's ASGI app. Starting it declares the streams and connects to NATS
    (failing when NATS does not answer); PostgreSQL is connected on first use."""
    services = _services(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await declare_streams(settings)
        await services.broker.start()
        try:
            yield
        finally:
            await services.broker.stop()
            await services.reader.close()

    app = FastAPIOffline(
        title="Tally dashboard",
        summary="Chat analytics: KPIs, time series, heatmaps, users and retention per chat.",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services = services
    app.include_router(api.router)
    app.include_router(health.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=web.STATIC), name="static")
    app.add_exception_handler(UserFacingError, _user_facing)
    for error in DATABASE_ERRORS:
        app.add_exception_handler(error, _database_failed)
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES)
    app.add_middleware(RequestMetrics, registry=services.registry)
    if hosts := trusted_hosts(settings):
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=hosts)
    FastAPIInstrumentor.instrument_app(app, excluded_urls=UNTRACED)
    instrument_asyncpg()
    return app
