"""``python -m tally.executor``: run the executor alone."""

import asyncio

from tally.common.telemetry import setup_logging, setup_tracing
from tally.executor.app import create_app
from tally.executor.config import ExecutorSettings


def main() -> None:
    settings = ExecutorSettings()
    setup_logging("executor", level=settings.log_level, json=settings.log_json)
    setup_tracing("executor", otlp_endpoint=settings.otel_exporter_otlp_endpoint)
    app = create_app(settings)
    asyncio.run(
        app.run(run_extra_options={"host": settings.metrics_host, "port": settings.metrics_port})
    )


if __name__ == "__main__":
    main()
