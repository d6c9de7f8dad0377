"""A fake OpenTelemetry collector: OTLP/HTTP traces on 127.0.0.1, kept in memory.

The services export with the SDK's OTLP/HTTP exporter (protobuf); this decodes each
``ExportTraceServiceRequest`` (gzip or not) into :class:`ReceivedSpan` rows.

    async with FakeCollector() as collector:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = collector.endpoint
        ...
        spans = await collector.wait_for(lambda spans: ..., timeout=20)
"""

import asyncio
import gzip
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from tally.cli.http import serve


@dataclass(frozen=True)
class ReceivedSpan:
    """One exported span: ids as lowercase hex (``parent_span_id`` empty for a root)."""

    service: str
    name: str
    kind: int
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, Any]
    links: tuple[tuple[str, str], ...]


def _value(value: AnyValue) -> Any:
    field = value.WhichOneof("value")
    return getattr(value, field) if field else None


def _attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs if isinstance(pair, KeyValue)}


def decode(body: bytes) -> list[ReceivedSpan]:
    """The spans of one serialized ExportTraceServiceRequest."""
    request = ExportTraceServiceRequest.FromString(body)
    spans: list[ReceivedSpan] = []
    for resource_spans in request.resource_spans:
        service = str(_attributes(resource_spans.resource.attributes).get("service.name"))
        for scope_spans in resource_spans.scope_spans:
            spans.extend(
                ReceivedSpan(
                    service=service,
                    name=span.name,
                    kind=span.kind,
                    trace_id=span.trace_id.hex(),
                    span_id=span.span_id.hex(),
                    parent_span_id=span.parent_span_id.hex(),
                    attributes=_attributes(span.attributes),
                    links=tuple((ln.trace_id.hex(), ln.span_id.hex()) for ln in span.links),
                )
                for span in scope_spans.spans
            )
    return spans


class FakeCollector:
    """Receives ``POST /v1/traces``; every span received so far is in :attr:`spans`."""

    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self._runner: web.AppRunner | None = None
        self.endpoint = ""

    async def _traces(self, request: web.Request) -> web.Response:
        body = await request.read()
        if request.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.spans.extend(decode(body))
        reply = ExportTraceServiceResponse().SerializeToString()
        return web.Response(body=reply, content_type="application/x-protobuf")

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/v1/traces", self._traces)
        self._runner, port = await serve(app, shutdown_timeout=1)
        self.endpoint = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def wait_for(
        self, done: Callable[[list[ReceivedSpan]], bool], *, timeout_s: float
    ) -> list[ReceivedSpan]:
        """The spans received, once ``done(spans)`` holds; raises TimeoutError after
        ``timeout_s`` seconds."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not done(list(self.spans)):
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"spans not complete within {timeout_s:g} s")
            await asyncio.sleep(0.1)
        return list(self.spans)
