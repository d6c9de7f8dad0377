"""``python -m tally.executor``: run the executor alone."""

from tally.executor.app import create_app
from tally.executor.config import ExecutorSettings
from tally.runtime.service import run_service


def main() -> None:
    """Serve the executor service with settings from the environment until stopped."""
    run_service("executor", ExecutorSettings(), create_app)


if __name__ == "__main__":
    main()
