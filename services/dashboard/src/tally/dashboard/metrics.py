"""Request counts and latency by route template (bounded labels: ``/api/chats/{chat_id}/…``)."""

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tally.infra.telemetry import trace_exemplar

UNMATCHED = "unmatched"


class RequestMetrics:
    """ASGI middleware: ``tally_dashboard_requests_total{method,route,status}`` and
    ``tally_dashboard_request_seconds{route}``, with the request's trace id as exemplar (the
    request's span is current here: the tracing middleware is outside this one)."""

    def __init__(self, app: ASGIApp, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "tally_dashboard_requests",
            "Dashboard HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "tally_dashboard_request_seconds",
            "Dashboard HTTP request latency by route template.",
            ["route"],
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", UNMATCHED)
            self.latency.labels(route).observe(time.perf_counter() - started, trace_exemplar())
            self.requests.labels(scope["method"], route, str(status)).inc()
