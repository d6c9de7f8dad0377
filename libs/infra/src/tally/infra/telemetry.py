"""Tracing and logging set up once per process.

Spans go over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` (used as is) or
``OTEL_EXPORTER_OTLP_ENDPOINT`` (``/v1/traces`` appended; Jaeger accepts OTLP on :4318) is
set, in the environment or ``.env``; otherwise they are recorded but not exported, so trace
ids still flow through every hop. The SDK itself reads the other standard variables:
``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` (over our ``tally-<service>``),
``OTEL_TRACES_SAMPLER``/``_ARG``, ``OTEL_BSP_*`` (batching), ``OTEL_EXPORTER_OTLP_*_HEADERS``,
``_TIMEOUT``, ``_COMPRESSION`` and ``_CERTIFICATE``, ``OTEL_SDK_DISABLED``.

A handler of a batch of messages wraps its work in :func:`batch_span`: one span linked to
each message's own trace. SQL statements in span attributes keep no literals
(:class:`SqlLiteralRedactor`). Log lines carry ``trace_id`` and ``span_id`` of the current
span.
"""

import logging
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import Any

import structlog
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import OTELResourceDetector, Resource
from opentelemetry.sdk.trace import Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link, SpanContext, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

STATEMENT_ATTRIBUTES = ("db.statement", "db.query.text")
"""The span attributes holding SQL text (old and current semantic conventions)."""
_LITERAL = re.compile(r"'(?:[^']|'')*'|(?<![\w$.])\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])")


def redact_literals(sql: str) -> str:
    """``sql`` with each string and number literal replaced by ``?`` (``$1`` placeholders,
    identifiers such as ``t1`` and quoted identifiers are kept)."""
    return _LITERAL.sub("?", sql)


class SqlLiteralRedactor(SpanProcessor):
    """Rewrites a span's SQL statement attribute, as the span starts, without its literals.

    Bound parameters are never recorded (the asyncpg instrumentation's default); this covers
    values written into the statement itself, such as LLM-written SQL's. The semantic
    conventions ask for it: ``db.query.text`` "SHOULD be sanitized to exclude sensitive
    information" (OpenTelemetry database spans).
    """

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        for key in STATEMENT_ATTRIBUTES:
            value = (span.attributes or {}).get(key)
            if isinstance(value, str):
                span.set_attribute(key, redact_literals(value))


_PROPAGATOR = TraceContextTextMapPropagator()
"""W3C ``traceparent``: what FastStream's TelemetryMiddleware injects into NATS headers."""
tracer = trace.get_tracer("tally.common")


def remote_span_context(headers: Mapping[str, str] | None) -> SpanContext | None:
    """The span context a message's ``traceparent`` header names, or None without one."""
    context = trace.get_current_span(_PROPAGATOR.extract(headers or {})).get_span_context()
    return context if context.is_valid else None


@contextmanager
def batch_span(name: str, headers: Iterable[Mapping[str, str] | None]) -> Iterator[trace.Span]:
    """A current CONSUMER span ``name`` for one batch of messages (``headers``, one per
    message), linked to each distinct span context found in them.

    The span's parent is the current span (the consume span of the fetch); the links lead to
    the trace each message was published in. At most ``OTEL_SPAN_LINK_COUNT_LIMIT`` (128 by
    default) links are kept.
    """
    all_headers = list(headers)
    contexts = [c for h in all_headers if (c := remote_span_context(h)) is not None]
    distinct = {(c.trace_id, c.span_id): c for c in contexts}
    attributes = {"messaging.batch.message_count": len(all_headers)}
    links = [Link(context) for context in distinct.values()]
    with tracer.start_as_current_span(
        name, kind=SpanKind.CONSUMER, links=links, attributes=attributes
    ) as span:
        yield span


def _resource(service: str) -> Resource:
    """``service.name`` ``tally-<service>``, unless OTEL_SERVICE_NAME or
    OTEL_RESOURCE_ATTRIBUTES say otherwise."""
    return Resource.create({"service.name": f"tally-{service}"}).merge(
        OTELResourceDetector().detect()
    )


def setup_tracing(
    service: str, *, otlp_endpoint: str | None, otlp_traces_endpoint: str | None = None
) -> TracerProvider:
    """Install the process-wide tracer provider for ``service`` and return it; spans are
    exported to ``otlp_traces_endpoint``, else ``otlp_endpoint`` + ``/v1/traces``, when set."""
    provider = TracerProvider(resource=_resource(service))
    provider.add_span_processor(SqlLiteralRedactor())
    endpoint = otlp_traces_endpoint or (
        otlp_endpoint.rstrip("/") + "/v1/traces" if otlp_endpoint else None
    )
    if endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    trace.set_tracer_provider(provider)
    return provider


def trace_exemplar() -> dict[str, str] | None:
    """``{"trace_id": <32 hex digits>}`` of the current span when it is sampled (exported), else
    None: the exemplar a latency histogram keeps with an observation, so Grafana links the
    bucket to the trace in Jaeger (served only in the OpenMetrics exposition)."""
    context = trace.get_current_span().get_span_context()
    if not (context.is_valid and context.trace_flags.sampled):
        return None
    return {"trace_id": format(context.trace_id, "032x")}


def _add_trace_ids(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event["trace_id"] = format(context.trace_id, "032x")
        event["span_id"] = format(context.span_id, "016x")
    return event


def _add_service(service: str) -> Any:
    """A processor adding ``service``; it also drops uvicorn's ``color_message`` extra (the
    message again, with terminal colour codes)."""

    def add(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        event.setdefault("service", service)
        event.pop("color_message", None)
        return event

    return add


OWN_HANDLERS = ("faststream", "uvicorn", "uvicorn.error", "uvicorn.access")
"""Loggers that libraries give handlers of their own (FastStream at import, uvicorn when it
configures logging): :func:`setup_logging` takes them away so the records reach the root's."""


def _log_uncaught(kind: type[BaseException], error: BaseException, tb: Any) -> None:
    if issubclass(kind, KeyboardInterrupt):  # Ctrl-C or SIGINT: a stop, not a failure
        structlog.get_logger("tally").info("interrupted")
        return
    structlog.get_logger("tally").critical("uncaught exception", exc_info=(kind, error, tb))


def setup_logging(service: str, *, level: str = "INFO", json: bool = False) -> None:
    """Send every log record of the process to stderr in one format: structlog's own and the
    standard library's (FastStream, aiogram, uvicorn, alembic, asyncio, warnings) alike,
    through structlog's ``ProcessorFormatter``.

    With ``json`` each record is one JSON object on one line with ``event``, ``level``,
    ``logger``, ``timestamp`` (ISO 8601, UTC), ``service`` and, inside a span, ``trace_id``
    (32 hex digits) and ``span_id`` (16); an exception is its traceback in ``exception``.
    Without, a line for people. Uncaught exceptions are logged the same way. Call it after
    the libraries are imported (FastStream adds its handler at import); uvicorn must be run
    with ``log_config=None``.
    """
    numeric = logging.getLevelName(level.upper())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_service(service),
        _add_trace_ids,
    ]
    rendering: list[Any] = (
        [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
        if json
        else [structlog.dev.ConsoleRenderer(colors=False)]
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendering],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(numeric)
    for name in OWN_HANDLERS:
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
