"""Running one service process: logs, traces, then its app until SIGTERM or Ctrl-C."""

import gc
from collections.abc import Callable
from typing import TypeVar

import uvloop
from faststream.asgi import AsgiFastStream

from tally.infra.settings import CommonSettings
from tally.infra.telemetry import setup_logging, setup_tracing

S = TypeVar("S", bound=CommonSettings)
GC_YOUNG_THRESHOLD = 20_000
"""Allocations (minus deallocations) between two collections of the youngest generation."""


def run_service(name: str, settings: S, create_app: Callable[[S], AsgiFastStream]) -> None:
    """Set up logging and tracing for ``name``, build its app from ``settings`` and serve it
    (NATS consumers, plus /metrics and /health on METRICS_HOST:METRICS_PORT) until stopped.

    The event loop is uvloop's (libuv), which cuts the per-message cost of every hop. uvicorn
    leaves logging as :func:`setup_logging` made it (``log_config=None``).

    Garbage collection: once the app is built, :func:`gc.freeze` moves every object made so
    far (modules, the app) out of the collector's reach, so a full collection walks only the
    objects made since; and the youngest generation is collected every GC_YOUNG_THRESHOLD
    allocations instead of CPython's 700. A batch of 2,000 chat events allocates hundreds of
    thousands of objects, most of them alive until the batch commits: with the defaults,
    collections took about a quarter of ingest's CPU time (BENCHMARKS.md, issue 17).
    """
    setup_logging(name, level=settings.log_level, json=settings.log_json)
    setup_tracing(
        name,
        otlp_endpoint=settings.otel_exporter_otlp_endpoint,
        otlp_traces_endpoint=settings.otel_exporter_otlp_traces_endpoint,
    )
    app = create_app(settings)
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])
    uvloop.run(
        app.run(
            run_extra_options={
                "host": settings.metrics_host,
                "port": settings.metrics_port,
                "log_config": None,
            }
        )
    )
