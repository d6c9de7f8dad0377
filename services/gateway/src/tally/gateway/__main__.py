"""``python -m tally.gateway`` / ``tally-gateway``: run the gateway until SIGTERM or Ctrl-C."""

import sys

from tally.common.errors import ConfigurationError
from tally.common.service import run_service
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
    run_service("gateway", settings, create_app)


if __name__ == "__main__":
    main()
