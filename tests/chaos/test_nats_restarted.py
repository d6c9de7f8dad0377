"""NATS restarted under load: services reconnect by themselves, every question gets an answer
or its client sees it fail, and no confirmed JetStream chat event is lost or doubled.

tests/test_nats_restart.py checks that nl2sql and executor, run in the test's process, answer
again after a restart. Here they and ingest run as their own processes (``python -m
tally.<service>``) on a nats-server of the test's own (JetStream, file storage), which is
stopped and started again on the same port and store directory while questions arrive at
5 per second (each through ``tally ask``'s client, a connection of its own) and chat events
are published (``Nats-Msg-Id``, confirmed by JetStream's acknowledgement, retried until
confirmed, as a gateway would).
"""

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from uuid import uuid4

import asyncpg
import nats
import pytest
from nats.aio.client import Client

from tally.cli.client import Asker, NoAnswerError, NotTakenError
from tally.cli.embedded import EmbeddedNats
from tally.cli.errors import StackNotRunningError
from tally.cli.seed_chats import generate_chat_events
from tally.contracts.chat_events import ChatEvent
from tally.contracts.streams import ensure_streams
from tally.contracts.subjects import Subjects
from tally.infra.db.session import asyncpg_dsn
from tally.infra.settings import CommonSettings
from tests.chaos._stack import Service, own_database, until

pytestmark = pytest.mark.timeout(120)

QUESTION = "How many videos are in the system?"
QUESTIONS_PER_S = 5
DOWN_S = 2.0
"""How long NATS stays stopped."""


@dataclass
class Stack:
    """The test's own nats-server, the services on it, and settings to reach them."""

    server: EmbeddedNats
    settings: CommonSettings
    services: list[Service]


@pytest.fixture
async def stack(tmp_path: Path, server_database_url: str) -> AsyncIterator[Stack]:
    """Own nats-server (JetStream, file storage), own database, nl2sql, executor, ingest."""
    server = EmbeddedNats(tmp_path / "nats")
    server.start()
    try:
        async with own_database(server_database_url, f"tally_nats_{uuid4().hex[:8]}") as url:
            settings = CommonSettings(
                nats_url=server.url, database_url=url, subject_prefix=f"n{uuid4().hex[:10]}"
            )
            client = await nats.connect(server.url)
            await ensure_streams(client.jetstream(), Subjects(settings.subject_prefix))
            await client.close()
            environment = {
                "NATS_URL": server.url,
                "DATABASE_URL": url,
                "SUBJECT_PREFIX": settings.subject_prefix,
            }
            services = [Service(name, environment) for name in ("nl2sql", "executor", "ingest")]
            try:
                for service in services:
                    await service.start()
                for service in services:
                    await service.wait_ready()
                yield Stack(server, settings, services)
            finally:
                for service in services:
                    await service.stop()
    finally:
        server.stop()


@dataclass
class Questions:
    """Outcomes of the questions asked, with when each was asked (monotonic seconds)."""

    outcomes: list[tuple[float, str]] = field(default_factory=list)

    async def ask(self, settings: CommonSettings) -> None:
        asked_at = time.monotonic()
        try:
            async with Asker(settings, timeout_s=10) as asker:
                answer = (await asker.ask(QUESTION)).answer
            outcome = "answered" if answer.outcome == "answered" else f"reply:{answer.reason}"
        except (StackNotRunningError, NotTakenError):
            outcome = "failed at the client"  # it could not reach NATS or nl2sql, and said so
        except NoAnswerError:
            outcome = "no answer"
        self.outcomes.append((asked_at, outcome))

    async def load(self, settings: CommonSettings, until_s: float) -> None:
        """Ask QUESTIONS_PER_S questions a second until ``until_s`` (monotonic); wait for all."""
        asking: set[asyncio.Task[None]] = set()
        while time.monotonic() < until_s:
            asking.add(asyncio.create_task(self.ask(settings)))
            await asyncio.sleep(1 / QUESTIONS_PER_S)
        await asyncio.gather(*asking)


async def _publish_confirmed(client: Client, subjects: Subjects, event: ChatEvent) -> int:
    """Publish ``event`` until JetStream acknowledges it; return the attempts it took."""
    js = client.jetstream()
    for attempt in range(1, 200):
        with contextlib.suppress(nats.errors.Error, TimeoutError):
            await js.publish(
                subjects.chat_event(event.chat_id, event.kind),
                event.model_dump_json().encode(),
                timeout=1,
                headers={"Nats-Msg-Id": event.event_id},
            )
            return attempt
        await asyncio.sleep(0.1)
    raise AssertionError(f"chat event {event.event_id} never confirmed")


async def _stream_events(settings: CommonSettings, events: Sequence[ChatEvent]) -> int:
    """Publish ``events`` in order, each confirmed, about 300 a second; return the retries."""
    client = await nats.connect(
        settings.nats_url, max_reconnect_attempts=-1, reconnect_time_wait=0.2
    )
    retries = 0
    try:
        for index, event in enumerate(events):
            retries += (
                await _publish_confirmed(client, Subjects(settings.subject_prefix), event) - 1
            )
            if index % 30 == 0:
                await asyncio.sleep(0.1)
    finally:
        await client.close()
    return retries


async def _stored(database_url: str) -> tuple[int, int]:
    """(messages, member events) stored."""
    connection = await asyncpg.connect(**asyncpg_dsn(database_url))
    try:
        row = await connection.fetchrow(
            "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM member_events)"
        )
        assert row is not None
        return int(row[0]), int(row[1])
    finally:
        await connection.close()


async def test_nats_restarted_under_load(stack: Stack) -> None:
    """Questions at 5/s and confirmed chat events while NATS restarts: the services are ready
    again by themselves, no question goes without an answer or a failure its client saw,
    questions asked once they are ready are all answered, and every confirmed chat event is
    stored exactly once."""
    settings, server = stack.settings, stack.server
    events = generate_chat_events(end=date(2025, 11, 30), chats=3, users=50, days=4)[:3000]
    messages = len({(e.chat_id, e.message_id) for e in events if e.kind == "message"})
    members = sum(e.kind == "member" for e in events)
    questions = Questions()
    started = time.monotonic()
    asking = asyncio.create_task(questions.load(settings, until_s=started + 20))
    streaming = asyncio.create_task(_stream_events(settings, events))

    await asyncio.sleep(4)
    stopped_at = time.monotonic()
    await asyncio.to_thread(server.stop)
    await asyncio.sleep(DOWN_S)
    await asyncio.to_thread(server.start)
    restarted_at = time.monotonic()
    for service in stack.services:
        await service.wait_ready(timeout_s=20)
    ready_at = time.monotonic()

    retries = await streaming
    await asking
    tally = Counter(outcome for _, outcome in questions.outcomes)
    summary = f"{dict(tally)}; NATS down {stopped_at - started:.1f}-{restarted_at - started:.1f} s"
    summary += f", services ready at {ready_at - started:.1f} s, chat publish retries {retries}"
    odd = [(round(at - started, 1), o) for at, o in questions.outcomes if o != "answered"]
    summary += f"; not answered: {odd}"
    assert retries > 0, f"no chat event publish met the outage: {summary}"
    assert tally["failed at the client"] > 0, f"no question met the outage: {summary}"
    before = [outcome for at, outcome in questions.outcomes if at < stopped_at]
    after = [outcome for at, outcome in questions.outcomes if at > ready_at]
    assert len(before) >= 15 and set(before) == {"answered"}, summary
    assert len(after) >= 50 and set(after) == {"answered"}, summary
    assert tally["no answer"] == 0, summary

    async def all_stored() -> bool:
        return await _stored(settings.database_url) >= (messages, members)

    await until(all_stored, timeout_s=40, what=f"{messages} messages and {members} member events")
    assert await _stored(settings.database_url) == (messages, members)
