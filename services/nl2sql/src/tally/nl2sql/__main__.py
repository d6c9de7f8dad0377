"""``python -m tally.nl2sql``: run nl2sql alone."""

from tally.nl2sql.app import create_app
from tally.nl2sql.config import Nl2sqlSettings
from tally.runtime.service import run_service


def main() -> None:
    """Serve the nl2sql service with settings from the environment until stopped."""
    run_service("nl2sql", Nl2sqlSettings(), create_app)


if __name__ == "__main__":
    main()
