"""``python -m tally.alerts``: run the alerts service alone."""

import asyncio

from tally.alerts.app import create_app
from tally.alerts.config import AlertsSettings
from tally.common.telemetry import setup_logging, setup_tracing


def main() -> None:
    settings = AlertsSettings()
    setup_logging("alerts", level=settings.log_level, json=settings.log_json)
    setup_tracing("alerts", otlp_endpoint=settings.otel_exporter_otlp_endpoint)
    app = create_app(settings)
    asyncio.run(
        app.run(run_extra_options={"host": settings.metrics_host, "port": settings.metrics_port})
    )


if __name__ == "__main__":
    main()
