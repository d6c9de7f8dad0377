"""``python -m tally.gateway`` / ``tally-gateway``: run the gateway until SIGTERM or Ctrl-C."""

import sys

from tally.gateway.app import create_app
from tally.gateway.config import GatewaySettings
from tally.infra.errors import ConfigurationError
from tally.runtime.service import run_service


def main() -> None:
    """Read the settings, set up logs and traces, serve /metrics and /health, poll Telegram
    (or serve its webhook when WEBHOOK_URL is set).

    Exits with status 1 and a one-line message when BOT_TOKEN is missing, or when WEBHOOK_URL
    is set without a valid WEBHOOK_SECRET.
    """
    settings = GatewaySettings()
    try:
        settings.require_bot_token()
        settings.require_webhook()
    except ConfigurationError as error:
        sys.exit(f"tally-gateway: {error}")
    run_service("gateway", settings, create_app)


if __name__ == "__main__":
    main()
