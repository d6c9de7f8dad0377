"""The dashboard's read-only connection pool (as ``tally_reader``, like the executor's).

It is the shared :class:`tally.infra.db.reader.Reader`: every session has
``default_transaction_read_only=on`` and ``statement_timeout`` as server settings, so a write
fails and a long query is cancelled without an extra round trip. The pool is made on first
use, so the dashboard starts while PostgreSQL is down (and is not ready until it answers).
"""

from tally.dashboard.config import DashboardSettings
from tally.infra.db.reader import Reader

UNAVAILABLE = "The database is not answering."
"""What the dashboard says (HTTP 503) when PostgreSQL cannot be reached."""
APPLICATION_NAME = "tally-dashboard"


def dashboard_reader(settings: DashboardSettings) -> Reader:
    """The pool the routes read from: ``settings.reader_url``, at most ``settings.pool_size``
    connections, each statement bounded by ``settings.statement_timeout_ms``."""
    return Reader(
        settings.reader_url,
        statement_timeout_ms=settings.statement_timeout_ms,
        pool_size=settings.pool_size,
        application_name=APPLICATION_NAME,
        unavailable=UNAVAILABLE,
    )
