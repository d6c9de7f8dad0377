"""DAU, WAU and MAU: distinct askers over the last 1, 7 and 30 days, from the questions log.

A background task counts them every ``active_users_refresh_s`` seconds into the
``tally_active_users{window}`` gauge. It reads as the ``tally_ops`` role (the admins'
reports' read-only login, OPS_DATABASE_URL), one short connection per refresh, never through
the plans' pool: ``tally_reader`` may not read the questions log. A failed refresh is logged
and the gauges keep their last values.
"""

import asyncio

import asyncpg
import structlog
from sqlalchemy.engine import URL

from tally.executor.config import ExecutorSettings
from tally.executor.metrics import ExecutorMetrics
from tally.infra.background import Hook, background
from tally.infra.db.reader import diagnostic
from tally.infra.db.session import asyncpg_dsn

log = structlog.get_logger(__name__)
ACTIVE_USERS_SQL = """
SELECT count(DISTINCT user_id) FILTER (WHERE asked_at >= now() - interval '1 day'),
       count(DISTINCT user_id) FILTER (WHERE asked_at >= now() - interval '7 days'),
       count(DISTINCT user_id)
FROM questions
WHERE asked_at >= now() - interval '30 days'
"""
"""The windows end now and are rolling (24 h, 7 × 24 h, 30 × 24 h), not calendar days."""


async def count_active_users(database_url: str | URL, *, timeout_s: float = 10.0) -> dict[str, int]:
    """Distinct askers per window, keyed ``1d``, ``7d``, ``30d``; raises asyncpg's and the
    network's errors."""
    connection = await asyncpg.connect(**asyncpg_dsn(database_url), timeout=timeout_s)
    try:
        day, week, month = await connection.fetchrow(ACTIVE_USERS_SQL, timeout=timeout_s)
    finally:
        await connection.close()
    return {"1d": int(day), "7d": int(week), "30d": int(month)}


async def refresh(settings: ExecutorSettings, metrics: ExecutorMetrics) -> None:
    """Count once into ``metrics.active_users``; a failure is logged, not raised."""
    try:
        counts = await count_active_users(settings.ops_url)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
        log.warning("active users not counted", **diagnostic(error))
        return
    for window, users in counts.items():
        metrics.active_users.labels(window).set(users)


def refresher(settings: ExecutorSettings, metrics: ExecutorMetrics) -> tuple[Hook, Hook]:
    """(start, stop) hooks for the app: start runs :func:`refresh` now and every
    ``settings.active_users_refresh_s`` seconds in a task; stop cancels it."""

    async def loop() -> None:
        while True:
            await refresh(settings, metrics)
            await asyncio.sleep(settings.active_users_refresh_s)

    return background(loop, name="active-users")
