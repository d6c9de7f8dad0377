"""``python -m tally.gateway`` / ``tally-gateway``: run the gateway until SIGTERM or Ctrl-C."""

import asyncio
import sys

from tally.common.errors import ConfigurationError
from tally.common.telemetry import setup_logging, setup_tracing
from tally.gateway.app import create_app
from tally.gateway.config import GatewaySettings


def main() -> None:
    """Read the settings, set up logs and traces, serve /metrics and /health, poll Telegram.

    Exits with status 1 and a one-line message when BOT_TOKEN is missing.
    """
    settings = GatewaySettings()
    try:
        settings.require_bot_token()
    except ConfigurationError as error:
        sys.exit(f"tally-gateway: {error}")
    setup_logging("gateway", level=settings.log_level, json=settings.log_json)
    setup_tracing("gateway", otlp_endpoint=settings.otel_exporter_otlp_endpoint)
    app = create_app(settings)
    asyncio.run(
        app.run(run_extra_options={"host": settings.metrics_host, "port": settings.metrics_port})
    )


if __name__ == "__main__":
    main()
