"""The chat commands' work: ``seed-chats``, ``replay`` and ``retention``.

Writes go through the chat store's write side (:mod:`tally.chatstore.write.writer`,
:mod:`tally.chatstore.write.replay`), the code ingest runs: a replay writes exactly what live
ingest writes, and retention deletes as ingest's scheduled pass does.
Seeding goes through JetStream, so ingest stores it.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime

import nats
from nats.js import JetStreamContext
from rich.console import Console
from rich.table import Table

from tally.chatstore.write.replay import ReplayReport, ReplayStart, replay_chat_events
from tally.chatstore.write.retention import retention_pass
from tally.chatstore.write.writer import (
    ChatWriter,
    RetentionCounts,
    retention_preview,
    truncate_chat_tables,
)
from tally.cli.seed_chats import generate_chat_events, publish_chat_events
from tally.contracts.subjects import Subjects
from tally.infra.db.session import create_engine
from tally.infra.errors import UserFacingError
from tally.infra.settings import CommonSettings

REPLAYABLE = "CHAT_EVENTS"


class NotReplayableError(UserFacingError):
    """``tally replay`` was asked for a stream it cannot replay, or for a bad start."""


def replay_start(value: str | None) -> ReplayStart:
    """``--from``: a stream sequence (digits) or an ISO 8601 time (UTC when it names no
    zone); None: the stream's beginning. Raises NotReplayableError for anything else."""
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise NotReplayableError(
            f"--from {value!r} is neither a stream sequence nor an ISO time "
            "(e.g. 2025-10-01T00:00:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_stream(name: str, subjects: Subjects) -> None:
    """Accept ``CHAT_EVENTS`` or the deployment's name for it; raise NotReplayableError."""
    if name.upper() not in {REPLAYABLE, subjects.chat_events_stream}:
        raise NotReplayableError(f"Only {REPLAYABLE} can be replayed into tables (got {name!r}).")


@asynccontextmanager
async def _jetstream(common: CommonSettings) -> AsyncIterator[JetStreamContext]:
    connection = await nats.connect(common.nats_servers(), **common.nats_auth())
    try:
        yield connection.jetstream()
    finally:
        await connection.close()


@dataclass(frozen=True)
class Seeded:
    """Events generated and how many JetStream stored (the others were duplicates)."""

    generated: int
    stored: int


async def seed_chats(
    common: CommonSettings, *, end: date, chats: int, users: int, days: int, seed: int
) -> Seeded:
    """Generate chats (:func:`generate_chat_events`) and publish them to CHAT_EVENTS."""
    events = generate_chat_events(end=end, chats=chats, users=users, days=days, seed=seed)
    async with _jetstream(common) as js:
        stored = await publish_chat_events(js, Subjects(common.subject_prefix), events)
    return Seeded(len(events), stored)


async def replay(
    common: CommonSettings,
    *,
    stream: str,
    start: str | None,
    rebuild: bool,
    console: Console,
    connections: int = 1,
) -> ReplayReport:
    """Replay ``stream`` (CHAT_EVENTS) from ``start`` (see :func:`replay_start`) into the chat
    tables, each fetch split by chat into ``connections`` concurrent transactions
    (``ChatWriter.ways``); with ``rebuild``, empty them first and read the whole stream
    (``start`` must be None). Raises NotReplayableError for another stream or a bad start."""
    subjects = Subjects(common.subject_prefix)
    check_stream(stream, subjects)
    begin = replay_start(start)
    if rebuild and begin is not None:
        raise NotReplayableError("--rebuild reads the whole stream: leave out --from.")
    engine = create_engine(common.database_url)
    try:
        if rebuild:
            await truncate_chat_tables(engine=engine)
            console.print("Emptied the chat tables and rollups.")
        async with _jetstream(common) as js:
            with console.status("replaying…") as status:

                def progress(report: ReplayReport) -> None:
                    status.update(
                        f"replayed {report.read:,} events (sequence {report.last_sequence:,})"
                    )

                return await replay_chat_events(
                    js=js,
                    subjects=subjects,
                    writer=ChatWriter(engine, ways=connections),
                    start=begin,
                    progress=progress,
                )
    finally:
        await engine.dispose()


async def retention(common: CommonSettings, *, apply: bool, now: datetime) -> list[RetentionCounts]:
    """Preview (or, with ``apply``, delete) each chat's raw rows older than its retention;
    applying also purges those events from CHAT_EVENTS, as ingest's scheduled pass does."""
    engine = create_engine(common.database_url)
    try:
        if not apply:
            return await retention_preview(engine=engine, now=now)
        async with _jetstream(common) as js:
            subjects = Subjects(common.subject_prefix)
            return await retention_pass(engine=engine, js=js, subjects=subjects, now=now)
    finally:
        await engine.dispose()


def retention_table(counts: list[RetentionCounts], *, applied: bool) -> Table:
    """The rows retention would delete (or deleted), one line per chat."""
    verb = "deleted" if applied else "to delete"
    table = Table(title=f"Retention: raw rows and stream events {verb} (the rollups are kept)")
    for name in (
        "chat",
        "title",
        "keep days",
        "before",
        "messages",
        "member events",
        "reactions",
        "reaction totals",
        "stream events",
    ):
        table.add_column(name)
    for chat in counts:
        table.add_row(
            str(chat.chat_id),
            chat.title or "",
            str(chat.retention_days),
            chat.cutoff.strftime("%Y-%m-%d %H:%M UTC"),
            f"{chat.messages:,}",
            f"{chat.member_events:,}",
            f"{chat.reactions:,}",
            f"{chat.reaction_counts:,}",
            f"{chat.stream_events:,}" if applied else "",
        )
    return table
