"""``python -m tally.nl2sql``: run nl2sql alone."""

import asyncio

from tally.common.telemetry import setup_logging, setup_tracing
from tally.nl2sql.app import create_app
from tally.nl2sql.config import Nl2sqlSettings


def main() -> None:
    """Read settings, set up logging and tracing, and serve until stopped."""
    settings = Nl2sqlSettings()
    setup_logging("nl2sql", level=settings.log_level, json=settings.log_json)
    setup_tracing("nl2sql", otlp_endpoint=settings.otel_exporter_otlp_endpoint)
    app = create_app(settings)
    options = {"host": settings.metrics_host, "port": settings.metrics_port}
    asyncio.run(app.run(run_extra_options=options))


if __name__ == "__main__":
    main()
