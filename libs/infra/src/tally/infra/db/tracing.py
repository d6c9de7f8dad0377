"""Database spans that keep no error message, and the asyncpg instrumentation that makes them.

asyncpg's exceptions quote the values they failed on (``invalid input syntax for type
integer: "<a stored message>"``), and an OpenTelemetry span an exception leaves records it
by default: an ``exception`` event with the message and stack trace, and the message in the
status description. The asyncpg spans (:func:`instrument_asyncpg`: the executor's, the
dashboard's) come from :class:`QuietTracerProvider`'s tracers, which record neither; the
instrumentation still sets the span's status to ERROR (and, under the new semantic
conventions, ``error.type`` to the exception's class).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.trace import Span, SpanKind, Tracer, TracerProvider
from opentelemetry.util import types


class QuietTracer(Tracer):
    """``tracer``, its spans recording no exception event and no status description."""

    def __init__(self, tracer: Tracer) -> None:
        self._tracer = tracer

    def start_span(
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: types.Attributes = None,
        links: trace._Links = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> Span:
        """The wrapped tracer's span, whatever ``record_exception`` and
        ``set_status_on_exception`` ask."""
        return self._tracer.start_span(
            name, context, kind, attributes, links, start_time, False, False
        )

    @contextmanager
    def start_as_current_span(  # type: ignore[override]  # the base's decorator is OTel's own
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: types.Attributes = None,
        links: trace._Links = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> Iterator[Span]:
        """The wrapped tracer's current span, as :meth:`start_span` makes it quiet."""
        with self._tracer.start_as_current_span(
            name,
            context,
            kind,
            attributes,
            links,
            start_time,
            record_exception=False,
            set_status_on_exception=False,
            end_on_exit=end_on_exit,
        ) as span:
            yield span


class QuietTracerProvider(TracerProvider):
    """The process's tracer provider (looked up when a tracer is asked for, so a provider
    installed later still gets the spans), handing out :class:`QuietTracer` s."""

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: types.Attributes = None,
    ) -> Tracer:
        tracer = trace.get_tracer_provider().get_tracer(
            instrumenting_module_name, instrumenting_library_version, schema_url, attributes
        )
        return QuietTracer(tracer)


def instrument_asyncpg() -> None:
    """Trace every asyncpg statement of this process (idempotent). Bound parameters are not
    recorded; literals in the statement text are redacted by
    :class:`tally.infra.telemetry.SqlLiteralRedactor`; a failed statement's span keeps no
    exception message (:class:`QuietTracerProvider`)."""
    instrumentor = AsyncPGInstrumentor(capture_parameters=False)  # type: ignore[no-untyped-call]
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(tracer_provider=QuietTracerProvider())
