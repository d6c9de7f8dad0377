"""Running one service process: logs, traces, then its app until SIGTERM or Ctrl-C."""

from collections.abc import Callable
from typing import TypeVar

import uvloop
from faststream.asgi import AsgiFastStream

from tally.infra.settings import CommonSettings
from tally.infra.telemetry import setup_logging, setup_tracing

S = TypeVar("S", bound=CommonSettings)


def run_service(name: str, settings: S, create_app: Callable[[S], AsgiFastStream]) -> None:
    """Set up logging and tracing for ``name``, build its app from ``settings`` and serve it
    (NATS consumers, plus /metrics and /health on METRICS_HOST:METRICS_PORT) until stopped.

    The event loop is uvloop's (libuv), which cuts the per-message cost of every hop. uvicorn
    leaves logging as :func:`setup_logging` made it (``log_config=None``).
    """
    setup_logging(name, level=settings.log_level, json=settings.log_json)
    setup_tracing(
        name,
        otlp_endpoint=settings.otel_exporter_otlp_endpoint,
        otlp_traces_endpoint=settings.otel_exporter_otlp_traces_endpoint,
    )
    app = create_app(settings)
    uvloop.run(
        app.run(
            run_extra_options={
                "host": settings.metrics_host,
                "port": settings.metrics_port,
                "log_config": None,
            }
        )
    )
