"""Chat retention on a schedule: the database's raw rows and the stream's events, together.

One pass (:func:`retention_pass`) deletes, per chat with ``retention_days``, the raw rows
older than its cutoff (:func:`~tally.chatstore.write.writer.apply_retention`) and then purges the
chat's events older than the cutoff from CHAT_EVENTS
(:func:`~tally.chatstore.write.stream_purge.purge_older_events`). Both steps are idempotent: a pass
that fails half-way is finished by the next one. :class:`RetentionSchedule` runs a pass every
``retention_interval_s`` in the ingest replica that holds the chat events lease; ``tally
retention --apply`` runs the same pass.
"""

import asyncio
import contextlib
import dataclasses
from datetime import datetime

import nats.errors
import structlog
from nats.js import JetStreamContext
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.chatstore.write.lease import ChatLease
from tally.chatstore.write.stream_purge import purge_older_events
from tally.chatstore.write.writer import RetentionCounts, apply_retention
from tally.contracts.events import utcnow
from tally.contracts.subjects import Subjects

log = structlog.get_logger(__name__)


async def retention_pass(
    *, engine: AsyncEngine, js: JetStreamContext, subjects: Subjects, now: datetime
) -> list[RetentionCounts]:
    """Apply every chat's retention at ``now`` (UTC) to the tables, then to CHAT_EVENTS; the
    counts deleted per chat, ``stream_events`` included. Raises SQLAlchemyError or OSError
    (database) and ``nats.errors.Error`` (JetStream)."""
    report = []
    for chat in await apply_retention(engine=engine, now=now):
        purged = await purge_older_events(js, subjects, chat.chat_id, chat.cutoff)
        report.append(dataclasses.replace(chat, stream_events=purged))
    return report


class RetentionSchedule:
    """Runs :func:`retention_pass` every ``interval_s`` seconds (the first soon after start)
    while ``lease`` is held; ``interval_s`` 0 disables it. A failed pass is logged and the
    next one tries again."""

    def __init__(
        self, *, engine: AsyncEngine, subjects: Subjects, lease: ChatLease, interval_s: float
    ) -> None:
        self.engine, self.subjects, self.lease = engine, subjects, lease
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    def start(self, js: JetStreamContext) -> None:
        """Start the background task (nothing when disabled)."""
        if self.interval_s > 0:
            self._task = asyncio.create_task(self._run(js))

    async def stop(self) -> None:
        """Cancel the background task and wait for it."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self, js: JetStreamContext) -> None:
        while True:
            await asyncio.sleep(min(self.interval_s, self.lease.ttl_s))
            if self.lease.held:
                await self.run_once(js)
                await asyncio.sleep(self.interval_s)

    async def run_once(self, js: JetStreamContext) -> None:
        """One pass now, logged; failures are logged, not raised."""
        try:
            report = await retention_pass(
                engine=self.engine, js=js, subjects=self.subjects, now=utcnow()
            )
        except (SQLAlchemyError, OSError, TimeoutError, nats.errors.Error) as error:
            log.warning("retention pass failed, next one retries", error=str(error)[:300])
            return
        for chat in report:
            counts = {k: v for k, v in dataclasses.asdict(chat).items() if k != "title"}
            log.info("retention applied", **counts)
