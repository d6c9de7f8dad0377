"""``python -m tally.alerts``: run the alerts service alone."""

from tally.alerts.app import create_app
from tally.alerts.config import AlertsSettings
from tally.runtime.service import run_service


def main() -> None:
    """Serve the alerts service with settings from the environment until stopped."""
    run_service("alerts", AlertsSettings(), create_app)


if __name__ == "__main__":
    main()
