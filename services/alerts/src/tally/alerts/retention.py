"""Retention of the alerts' own tables: history and ended silences older than
``alert_history_days``, deleted every ``alert_retention_interval_s`` (a deletion is idempotent,
so every replica may run it)."""

import asyncio
from datetime import datetime, timedelta

import structlog
from sqlalchemy.exc import SQLAlchemyError

from tally.alerts.config import AlertsSettings
from tally.alerts.store import AlertStore
from tally.contracts.events import utcnow

log = structlog.get_logger(__name__)


async def history_retention_pass(store: AlertStore, *, days: int, now: datetime) -> tuple[int, int]:
    """Delete alert history and silences that ended more than ``days`` days before ``now``;
    (history rows, silences) deleted. Raises SQLAlchemyError or OSError."""
    return await store.forget_before(now - timedelta(days=days))


async def run_history_retention(store: AlertStore, settings: AlertsSettings) -> None:
    """:func:`history_retention_pass` now and every ``alert_retention_interval_s`` until
    cancelled (never when it is 0); a failed pass is logged and the next one retries."""
    interval = settings.alert_retention_interval_s
    while interval > 0:
        try:
            history, silences = await history_retention_pass(
                store, days=settings.alert_history_days, now=utcnow()
            )
            log.info("alert history retention", history=history, silences=silences)
        except (SQLAlchemyError, OSError) as error:
            log.warning("alert history retention failed", error=str(error)[:300])
        await asyncio.sleep(interval)
