"""Run the ingest service: ``python -m tally.ingest`` (or the ``tally-ingest`` script)."""

import asyncio

from tally.common.telemetry import setup_logging, setup_tracing
from tally.ingest.app import create_app
from tally.ingest.config import IngestSettings


def main() -> None:
    """Read IngestSettings from the environment and serve until stopped."""
    settings = IngestSettings()
    setup_logging("ingest", level=settings.log_level, json=settings.log_json)
    setup_tracing("ingest", otlp_endpoint=settings.otel_exporter_otlp_endpoint)
    app = create_app(settings)
    asyncio.run(
        app.run(run_extra_options={"host": settings.metrics_host, "port": settings.metrics_port})
    )


if __name__ == "__main__":
    main()
