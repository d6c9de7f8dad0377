"""Run the ingest service: ``python -m tally.ingest`` (or the ``tally-ingest`` script)."""

from tally.ingest.app import create_app
from tally.ingest.config import IngestSettings
from tally.runtime.service import run_service


def main() -> None:
    """Serve the ingest service with settings from the environment until stopped."""
    run_service("ingest", IngestSettings(), create_app)


if __name__ == "__main__":
    main()
