"""``history`` (an admin's ``/alerts history [N]``) on real PostgreSQL: the latest rows of
alert_history, newest first, with who did what; a sentence when there is no store or the
database does not answer."""

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.alerts.commands import handle
from tally.alerts.domain.rules import Condition, MetricSource, Rule
from tally.alerts.domain.rules_file import Route, RulesFile
from tally.alerts.engine import AlertEngine
from tally.alerts.store import AlertStore
from tally.contracts.alerting import AlertCommand
from tally.contracts.events import utcnow
from tally.infra.db.models import AlertHistory
from tally.infra.db.session import create_engine

ROUTE = Route(group_wait_s=0, group_interval_s=10, repeat_interval_s=3600)
RULES = RulesFile(
    route=ROUTE,
    rules=(
        Rule(
            name="DatabaseDown",
            source=MetricSource(metric="database_up", window_s=60),
            condition=Condition(op="<", threshold=1),
            severity="critical",
            summary="database down",
        ),
    ),
)
T0 = utcnow().replace(microsecond=0) + timedelta(days=3650)
"""Ten years ahead: later than any row another test of the run writes."""


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    async with engine.begin() as connection:
        await connection.execute(delete(AlertHistory).where(AlertHistory.at >= T0))
    await engine.dispose()


async def test_history_lists_the_latest_events_newest_first(database: AsyncEngine) -> None:
    """Fired, notified, acknowledged by 7, silenced by 8: history 3 gives the three newest,
    the silence first, with the admins' ids; the default gives all four first."""
    engine = AlertEngine(RULES, store=AlertStore(database))
    engine.samples.record("database_up", 0, T0.timestamp())
    [fired] = await engine.evaluate(T0)
    ack = AlertCommand(action="ack", actor_id=7, target=fired.group_id)
    assert (await handle(engine, ack, T0 + timedelta(seconds=1))).ok
    silence = AlertCommand(action="silence", actor_id=8, target=fired.group_id, duration_s=60)
    assert (await handle(engine, silence, T0 + timedelta(seconds=2))).ok

    reply = await handle(engine, AlertCommand(action="history", actor_id=7, limit=3), T0)

    assert reply.ok and reply.message == "The 3 latest alert events, newest first."
    events = [(entry.event, entry.actor_id) for entry in reply.history]
    assert events == [("silenced", 8), ("acknowledged", 7), ("notified", None)]
    assert {entry.alertname for entry in reply.history} == {"DatabaseDown"}
    assert reply.history[0].labels["severity"] == "critical"
    everything = await handle(engine, AlertCommand(action="history", actor_id=7), T0)
    # The run's other tests leave older rows: ours are the newest four, then theirs.
    ours = [entry.event for entry in everything.history[:4]]
    assert ours == ["silenced", "acknowledged", "notified", "fired"]
    times = [entry.at for entry in everything.history]
    assert times == sorted(times, reverse=True)


async def test_history_needs_the_store_and_says_when_it_cannot_read() -> None:
    """Without a store, or with a database that refuses the connection: ok False and a
    sentence, not an exception."""
    command = AlertCommand(action="history", actor_id=7, limit=5)
    reply = await handle(AlertEngine(RULES), command, T0)
    assert (reply.ok, reply.message) == (False, "The alert history needs the database.")
    unreachable = create_engine("postgresql://postgres@127.0.0.1:1/none")
    try:
        engine = AlertEngine(RULES, store=AlertStore(unreachable), store_timeout_s=5)
        reply = await handle(engine, command, T0)
    finally:
        await unreachable.dispose()
    assert (reply.ok, reply.message) == (
        False,
        "The alert history could not be read; try again shortly.",
    )
