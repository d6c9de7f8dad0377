"""Alert history retention on real PostgreSQL: rows older than ALERT_HISTORY_DAYS and
silences that ended before then are deleted; newer ones and active silences stay."""

from collections.abc import AsyncIterator
from datetime import timedelta
from uuid import uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.alerts.domain.history import HistoryEvent
from tally.alerts.domain.silences import Silence
from tally.alerts.retention import history_retention_pass
from tally.alerts.store import AlertStore
from tally.contracts.events import utcnow
from tally.infra.db.session import create_engine


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[AlertStore]:
    engine: AsyncEngine = create_engine(database_url)
    yield AlertStore(engine)
    await engine.dispose()


async def test_history_older_than_the_limit_is_deleted(store: AlertStore) -> None:
    """With 90 days: the 91-day-old row and the silence ended 100 days ago go; the
    89-day-old row, an open-ended silence and a silence ending next week stay."""
    now, mark = utcnow(), uuid4().hex[:16]

    def row(days: int) -> HistoryEvent:
        return HistoryEvent(now - timedelta(days=days), mark, f"Old{days}", {}, "fired")

    def silence(ends_in_days: int | None) -> Silence:
        ends = None if ends_in_days is None else now + timedelta(days=ends_in_days)
        return Silence(
            id=uuid4().hex[:16],
            matchers=(f"alertname={mark}",),
            created_by=1,
            starts_at=now - timedelta(days=200),
            ends_at=ends,
            comment=mark,
        )

    await store.record([row(91), row(89)])
    for ends in (-100, None, 7):
        await store.save_silence(silence(ends))

    history, silences = await history_retention_pass(store, days=90, now=now)

    assert (history, silences) >= (1, 1)
    async with store.engine.connect() as connection:
        names = await connection.execute(
            text("SELECT alertname FROM alert_history WHERE fingerprint = :m"), {"m": mark}
        )
        ends = await connection.execute(
            text("SELECT ends_at IS NULL FROM alert_silences WHERE comment = :m ORDER BY 1"),
            {"m": mark},
        )
        assert [name for (name,) in names] == ["Old89"]
        assert [open_ended for (open_ended,) in ends] == [False, True]
