"""Database writes of chat events: raw rows and rollups together, one transaction per batch
(or per group of its chats, ``ChatWriter.ways``).

:class:`ChatWriter` is the one way chat events reach the tables, for live ingest and for
``tally replay`` alike. A writer made with ``ways`` > 1 splits a batch by chat into up to that
many groups and writes them in concurrent transactions (:func:`chat_groups`), so PostgreSQL
works on one group while Python plans the next.

Every write is idempotent: messages on (chat_id, message_id, sent_at) and member events on
their event id (``INSERT … ON CONFLICT DO NOTHING … RETURNING``, and only the rows returned
count in the rollups); member counts keep each local day's latest snapshot; edits apply when
no later edit is stored; reactions and reaction totals are replaced, and the rollups follow
the difference. The statements are in :mod:`tally.chatstore.write.statements` (raw rows)
and :mod:`tally.chatstore.write.rollup_statements` (rollups).

Retention (:func:`retention_preview`, :func:`apply_retention`) deletes raw rows older than a
chat's ``retention_days`` and keeps the rollups. Functions raise
``sqlalchemy.exc.SQLAlchemyError`` (or ``OSError`` when the server is unreachable) after
rolling their transaction back.
"""

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

import structlog
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tally.chatstore.tables import (
    CHAT_HASHTAGS_DAILY,
    CHAT_TABLES,
    CHAT_WORDS_DAILY,
    CHATS,
    MESSAGES,
    RAW_TABLES,
    Row,
)
from tally.chatstore.write import rollup_statements as rollup_sql
from tally.chatstore.write import statements as sql
from tally.chatstore.write.batch import (
    BatchPlan,
    ChatState,
    Original,
    local_day,
    plan_batch,
    resolve_replies,
)
from tally.chatstore.write.partitions import (
    ensure_message_partitions,
    is_partitioned,
    month_start,
)
from tally.chatstore.write.reaction_totals import settle_totals
from tally.chatstore.write.rollups import Rollups, Standing, count_inserted, settle_reactions
from tally.chatstore.write.statements import arrays, execute_batch, key_arrays
from tally.contracts.chat_events import ChatEvent, ChatSettings, MessagePosted

REFUSED_CLASSES = ("22", "23")
"""SQLSTATE classes in which the database refuses the data itself (data exception, integrity
constraint violation): no retry can help. Any other failure (connection, authentication, a
database or table not there yet, a deadlock, a full disk) may pass."""

KEYED_LOOKUPS_ONLY = text("SET LOCAL enable_seqscan = off")
"""Every statement of a batch finds rows by their key. A partition filled faster than
autovacuum analyzes it (a replay, a backlog) looks tiny to the planner, which then scans it
whole: deletions took 35 ms instead of 1 in the benchmark. Forbidding sequential scans for
the batch's transaction keeps those lookups on their indexes."""

MessagesLayout = Literal["partitioned table", "TimescaleDB hypertable", "plain table"]
Write = Callable[[Sequence[ChatEvent]], Awaitable["WriteResult"]]
"""One transaction's write of a batch (``ChatWriter.write`` or its part after the partitions)."""
log = structlog.get_logger(__name__)


async def _erase_text(connection: AsyncConnection, chat_ids: Iterable[int]) -> None:
    """Null the stored text of every message of ``chat_ids`` (text storage turned off), and
    delete the words and hashtags counted from it."""
    if chats := sorted(chat_ids):
        erase = update(MESSAGES).where(MESSAGES.c.chat_id.in_(chats), MESSAGES.c.text.is_not(None))
        await connection.execute(erase.values(text=None))
        for counted in (CHAT_WORDS_DAILY, CHAT_HASHTAGS_DAILY):
            await connection.execute(delete(counted).where(counted.c.chat_id.in_(chats)))


def refuses_the_data(error: SQLAlchemyError) -> bool:
    """True when ``error`` is the database refusing a value (see REFUSED_CLASSES)."""
    state = getattr(getattr(error, "orig", None), "sqlstate", None)
    return isinstance(error, DBAPIError) and str(state)[:2] in REFUSED_CLASSES


async def _run(
    connection: AsyncConnection, statement: Any, rows: Sequence[Row], names: Sequence[str]
) -> list[Any]:
    """Run a :mod:`~tally.chatstore.write.statements` statement over ``rows`` (nothing when empty);
    return the rows it returned, if it returns any."""
    if not rows:
        return []
    result = await execute_batch(connection, statement, arrays(rows, names))
    return list(result.all()) if result.returns_rows else []


async def _run_keys(
    connection: AsyncConnection,
    statement: Any,
    names: Sequence[str],
    keys: Sequence[tuple[Any, ...]],
) -> list[Any]:
    """:func:`_run` for key tuples (values of ``names``) instead of rows."""
    if not keys:
        return []
    result = await execute_batch(connection, statement, key_arrays(names, keys))
    return list(result.all()) if result.returns_rows else []


def _zones_of(
    inserted: Sequence[Any], plan: BatchPlan, states: dict[int, ChatState]
) -> dict[tuple[int, int], str]:
    """``(chat_id, message_id)`` of each message row the batch inserted -> its chat's zone
    (as the batch leaves it)."""
    zones = {chat_id: state.timezone for chat_id, state in states.items()}
    zones.update({chat_id: settings.timezone for chat_id, settings in plan.settings.items()})
    return {(row[0], row[1]): zones.get(row[0], "UTC") for row in inserted}


async def _chat_states(connection: AsyncConnection, chat_ids: set[int]) -> dict[int, ChatState]:
    """The stored time zone and text setting of those of ``chat_ids`` that exist."""
    result = await connection.execute(
        select(CHATS.c.chat_id, CHATS.c.timezone, CHATS.c.store_text).where(
            CHATS.c.chat_id.in_(sorted(chat_ids))
        )
    )
    return {chat_id: ChatState(zone, store_text) for chat_id, zone, store_text in result}


async def _store_chats(connection: AsyncConnection, plan: BatchPlan) -> None:
    chats = [plan.chats[chat_id] for chat_id in sorted(plan.chats)]
    await _run(connection, sql.UPSERT_CHATS, chats, sql.CHAT_COLUMNS)
    settings = [
        {"chat_id": chat_id, **chosen.model_dump(exclude={"version"})}
        for chat_id, chosen in sorted(plan.settings.items())
    ]
    await _run(connection, sql.STORE_SETTINGS, settings, sql.SETTINGS_COLUMNS)
    if plan.audits:
        await connection.execute(sql.INSERT_AUDITS, plan.audits)


async def _store_users(connection: AsyncConnection, plan: BatchPlan) -> None:
    """Upsert the batch's users, in ``user_id`` order. The one table transactions of different
    chats share: the writer runs this last, just before commit, so a concurrent transaction
    (``ChatWriter.ways``) waits for these rows' locks only as long as a commit takes, and the
    order rules a deadlock out."""
    users = [plan.users[user_id] for user_id in sorted(plan.users)]
    await _run(connection, sql.UPSERT_USERS, users, sql.USER_COLUMNS)


async def _apply_edits(connection: AsyncConnection, plan: BatchPlan, rollups: Rollups) -> None:
    """Apply each message's latest edit unless a later one is stored; count word changes on
    the message's day."""
    edits = [plan.edits[key] for key in sorted(plan.edits)]
    rows = [
        {
            "chat_id": e.key[0],
            "message_id": e.key[1],
            "sent_at": e.key[2],
            "text_length": e.text_length,
            "word_count": e.word_count,
            "text": e.text,
            "edited_at": e.edited_at,
        }
        for e in edits
    ]
    edited = await _run(connection, sql.EDIT_MESSAGES, rows, sql.EDIT_COLUMNS)
    for chat_id, message_id, sent_at, user_id, words, before, after, tags in edited:
        day = local_day(sent_at, plan.edits[chat_id, message_id, sent_at].zone)
        rollups.message(chat_id, user_id, day, sent_at, messages=0, words=words)
        rollups.text(chat_id, day, before, tags > 0, -1)
        rollups.text(chat_id, day, after, tags > 0, 1)


async def _resolve_replies(connection: AsyncConnection, plan: BatchPlan) -> None:
    """Find the original of each reply of the batch (stored or earlier in the batch) and
    put its author and the delay on the reply's row (:func:`resolve_replies`)."""
    answered = {
        (row["chat_id"], row["reply_to_message_id"])
        for row in plan.messages.values()
        if row["reply_to_message_id"] is not None
    }
    stored: dict[tuple[int, int], list[Original]] = {}
    found = await _run_keys(connection, sql.ORIGINALS, sql.ORIGINALS_KEY, sorted(answered))
    for chat_id, message_id, sent_at, user_id in found:
        stored.setdefault((chat_id, message_id), []).append((sent_at, user_id))
    resolve_replies(plan, stored)


async def _mark_deleted(connection: AsyncConnection, plan: BatchPlan) -> None:
    rows = [
        {"chat_id": chat_id, "message_id": message_id, "deleted_at": at}
        for (chat_id, message_id), at in sorted(plan.deletions.items())
    ]
    await _run(connection, sql.MARK_DELETED, rows, sql.DELETION_COLUMNS)


async def _apply_reactions(connection: AsyncConnection, plan: BatchPlan, rollups: Rollups) -> None:
    """Replace each user's reactions as the batch's ReactionChanged say, in order."""
    keys = sorted({event.key for event in plan.reactions})
    standing: Standing = {}
    found = await _run_keys(connection, sql.STANDING_REACTIONS, sql.REACTION_KEY, keys)
    for chat_id, message_id, user_id, emoji, reacted_at in found:
        standing.setdefault((chat_id, message_id, user_id), {})[emoji] = reacted_at
    changed = settle_reactions(plan.reactions, standing, rollups)
    await _run_keys(connection, sql.DELETE_REACTIONS, sql.REACTION_KEY, list(changed))
    rows = [
        {"chat_id": c, "message_id": m, "user_id": u, "emoji": emoji, "reacted_at": at}
        for (c, m, u), emojis in changed.items()
        for emoji, at in sorted(emojis.items())
    ]
    await _run(connection, sql.INSERT_REACTIONS, rows, sql.REACTION_COLUMNS)


async def _apply_reaction_counts(connection: AsyncConnection, plan: BatchPlan) -> None:
    """Replace each message's anonymous totals, unless a later report is stored."""
    reports = plan.reaction_counts
    keys = sorted(reports)
    found = await _run_keys(connection, sql.LATEST_COUNTS, sql.COUNTS_KEY, keys)
    stored = {(chat_id, message_id): at for chat_id, message_id, at in found}
    fresh = [key for key in keys if key not in stored or stored[key] <= reports[key].at]
    await _run_keys(connection, sql.DELETE_COUNTS, sql.COUNTS_KEY, fresh)
    rows = [
        {"chat_id": c, "message_id": m, "emoji": emoji, "count": n, "updated_at": reports[c, m].at}
        for c, m in fresh
        for emoji, n in sorted(reports[c, m].counts.items())
        if n > 0
    ]
    await _run(connection, sql.INSERT_COUNTS, rows, sql.COUNTS_COLUMNS)


async def _write_rollups(connection: AsyncConnection, rollups: Rollups) -> None:
    """Upsert the rollups' increments summed in ``rollups`` in one statement, then drop the
    rows they left at 0 (:func:`_drop_zeros`)."""
    daily, user_daily, hourly = rollups.rows()
    emoji_daily, user_reactions = rollups.reaction_rows()
    words, tags = rollups.text_rows()
    increments = (  # in the order of rollup_sql.ROLLUPS
        daily,
        user_daily,
        hourly,
        words,
        tags,
        emoji_daily,
        user_reactions,
        rollups.monthly_rows(),
    )
    if any(increments):
        await connection.execute(
            rollup_sql.UPSERT_ROLLUPS, rollup_sql.rollup_parameters(increments)
        )
    # user_reactions_monthly's chats are user_reactions_daily's
    await _drop_zeros(connection, (words, tags, emoji_daily, user_reactions, user_reactions))


async def _drop_zeros(connection: AsyncConnection, increments: Sequence[sql.Columns]) -> None:
    """Delete the rows of each of ``rollup_sql.ZEROS_DROPPED`` (rollups whose counts can go
    down: edits, withdrawn reactions) in the chats of its ``increments`` whose counts are all
    0, so the tables hold the same rows however the events were batched (a row that went to 0
    is as if it never was); one statement, run after the upserts (whose changes it must
    see)."""
    if not any(increments):
        return
    chats = {
        f"{table.name}_chats": sorted(set(columns["a_chat_id"])) if columns else None
        for table, columns in zip(rollup_sql.ZEROS_DROPPED, increments, strict=True)
    }
    await connection.execute(rollup_sql.DROP_ZEROS, chats)


async def messages_layout(connection: AsyncConnection) -> MessagesLayout:
    """How ``messages`` is stored: partitioned by month (plain PostgreSQL), a TimescaleDB
    hypertable (the migration chose it because the extension exists), or neither."""
    if await is_partitioned(connection):
        return "partitioned table"
    found = await connection.execute(
        text("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")
    )
    return "TimescaleDB hypertable" if found.first() else "plain table"


@dataclass(frozen=True)
class WriteResult:
    """What one batch changed: events written, messages and member events that were new,
    the settings of chats whose settings changed (to publish in the settings bucket), the
    chats whose stored text was erased, with the index of the event that turned text storage
    off (``BatchPlan.text_off``), and the indexes of events
    whose text was not stored (``BatchPlan.text_dropped``): both for the stream to forget."""

    events: int = 0
    messages: int = 0
    member_events: int = 0
    settings: dict[int, ChatSettings] = field(default_factory=dict)
    text_off: dict[int, int] = field(default_factory=dict)
    text_dropped: tuple[int, ...] = ()

    def plus(self, other: "WriteResult", offset: int = 0) -> "WriteResult":
        """Both results together (``other``'s settings win); ``other``'s event indexes
        shifted by ``offset``."""
        return WriteResult(
            self.events + other.events,
            self.messages + other.messages,
            self.member_events + other.member_events,
            {**self.settings, **other.settings},
            {**self.text_off, **{c: offset + i for c, i in other.text_off.items()}},
            (*self.text_dropped, *(offset + index for index in other.text_dropped)),
        )

    def placed(self, indexes: Sequence[int]) -> "WriteResult":
        """This result of a group of a batch's events, with each event index ``i`` (into the
        group) replaced by ``indexes[i]`` (the event's index in the batch)."""
        return replace(
            self,
            text_off={chat_id: indexes[i] for chat_id, i in self.text_off.items()},
            text_dropped=tuple(indexes[i] for i in self.text_dropped),
        )


def chat_groups(events: Sequence[ChatEvent], ways: int) -> list[list[int]]:
    """The indexes of ``events`` split by chat into at most ``ways`` groups of about the same
    number of events (each chat whole, the largest first into the smallest group: the
    longest-processing-time rule), each group in stream order; one group when ``ways`` < 2
    or the events are of one chat."""
    by_chat: dict[int, list[int]] = {}
    for index, event in enumerate(events):
        by_chat.setdefault(event.chat_id, []).append(index)
    if ways < 2 or len(by_chat) < 2:
        return [list(range(len(events)))]
    groups: list[list[int]] = [[] for _ in range(min(ways, len(by_chat)))]
    for indexes in sorted(by_chat.values(), key=len, reverse=True):
        min(groups, key=len).extend(indexes)
    return [sorted(group) for group in groups]


class ChatWriter:
    """Writes batches of chat events through ``engine``; :meth:`write_isolating` splits a
    batch by chat into up to ``ways`` transactions run at once (one connection each).

    Keep one per process: it remembers the ``messages`` layout and the monthly partitions it
    has made (under TimescaleDB it makes none: chunks are automatic).
    """

    def __init__(self, engine: AsyncEngine, *, ways: int = 1) -> None:
        self.engine = engine
        self.ways = ways
        self._layout: MessagesLayout | None = None
        self._months: set[date] = set()

    async def layout(self) -> MessagesLayout:
        """The ``messages`` layout, detected (and logged) on the first call."""
        if self._layout is None:
            async with self.engine.connect() as connection:
                self._layout = await messages_layout(connection)
            log.info(f"messages: {self._layout}")
        return self._layout

    async def _ensure_partitions(self, events: Sequence[ChatEvent]) -> None:
        months = {month_start(e.occurred_at) for e in events if isinstance(e, MessagePosted)}
        missing = months - self._months
        if missing and await self.layout() == "partitioned table":
            async with self.engine.begin() as connection:
                await ensure_message_partitions(connection, missing)
        self._months |= missing

    async def write(self, events: Sequence[ChatEvent]) -> WriteResult:
        """Store ``events`` (in stream order) and their rollups in one transaction."""
        if not events:
            return WriteResult()
        await self._ensure_partitions(events)
        return await self._write(events)

    async def _write(self, events: Sequence[ChatEvent]) -> WriteResult:
        """:meth:`write` once the monthly partitions of ``events`` exist."""
        rollups = Rollups()
        async with self.engine.begin() as connection:
            await connection.execute(KEYED_LOOKUPS_ONLY)
            states = await _chat_states(connection, {event.chat_id for event in events})
            plan = plan_batch(events, states)
            await _store_chats(connection, plan)
            await _resolve_replies(connection, plan)
            messages = await _run(
                connection,
                rollup_sql.INSERT_MESSAGES,
                [plan.messages[key] for key in sorted(plan.messages)],
                rollup_sql.MESSAGE_COLUMNS,
            )
            members = await _run(
                connection,
                sql.INSERT_MEMBER_EVENTS,
                [plan.members[key] for key in sorted(plan.members)],
                sql.MEMBER_EVENT_COLUMNS,
            )
            count_inserted(rollups, plan, [tuple(row) for row in messages], [m[0] for m in members])
            await _apply_edits(connection, plan, rollups)
            await _mark_deleted(connection, plan)
            await _apply_reactions(connection, plan, rollups)
            await _apply_reaction_counts(connection, plan)
            await settle_totals(connection, plan, rollups, _zones_of(messages, plan, states))
            await _write_rollups(connection, rollups)
            await _run(
                connection,
                sql.UPSERT_MEMBER_COUNTS,
                [plan.member_counts[key] for key in sorted(plan.member_counts)],
                sql.MEMBER_COUNT_COLUMNS,
            )
            await _erase_text(connection, plan.text_off)
            await _store_users(connection, plan)
        return WriteResult(
            len(events),
            len(messages),
            len(members),
            plan.settings,
            plan.text_off,
            tuple(plan.text_dropped),
        )

    async def write_isolating(
        self, events: Sequence[ChatEvent]
    ) -> tuple[WriteResult, list[tuple[int, str]]]:
        """:meth:`write` ``events``; when the database refuses a value (:func:`refuses_the_data`),
        write them in halves instead, in stream order, each half refused halved again down to
        the single events refused: returns what was written and, for each event refused, its
        index in ``events`` and the reason (in index order). For r refused events among n that
        is at most about 2·r·log2(n) transactions, where one per event took n.

        With ``ways`` > 1 the events are first split by chat (:func:`chat_groups`) and the
        groups written so, each in its own transaction, all at once: chats share no rows but
        ``users`` (see ``_store_users``), and a chat's events stay in stream order. Any other
        failure is raised as it is, once every group has finished: it may pass, and the batch
        is to be tried again (the groups and halves already committed are idempotent to write
        again)."""
        groups = chat_groups(events, self.ways)
        if len(groups) == 1:
            return await self._isolating(events, self.write)
        await self._ensure_partitions(events)  # once, not raced (nor repeated) by the groups
        outcomes = await asyncio.gather(
            *(self._isolating([events[i] for i in group], self._write) for group in groups),
            return_exceptions=True,
        )
        written, refused = WriteResult(), []
        for group, outcome in zip(groups, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                raise outcome
            part, part_refused = outcome
            written = written.plus(part.placed(group))
            refused += [(group[index], reason) for index, reason in part_refused]
        written = replace(written, text_dropped=tuple(sorted(written.text_dropped)))
        return written, sorted(refused)

    async def _isolating(
        self, events: Sequence[ChatEvent], write: Write
    ) -> tuple[WriteResult, list[tuple[int, str]]]:
        """:meth:`write_isolating` of one group with ``write`` (:meth:`write`, or
        :meth:`_write` once the batch's partitions exist): one transaction, or halves when
        refused."""
        try:
            return await write(events), []
        except SQLAlchemyError as error:
            if not refuses_the_data(error):
                raise
            return await self._halves(events, error, write)

    async def _halves(
        self, events: Sequence[ChatEvent], error: SQLAlchemyError, write: Write
    ) -> tuple[WriteResult, list[tuple[int, str]]]:
        """``events``, whose write the database refused with ``error``, written half by half
        (see :meth:`write_isolating`); indexes are into ``events``."""
        if len(events) == 1:
            return WriteResult(), [(0, f"database refused it: {str(error).splitlines()[0]}")]
        middle = len(events) // 2
        written, refused = WriteResult(), []
        for start, half in ((0, events[:middle]), (middle, events[middle:])):
            part_refused: list[tuple[int, str]] = []
            try:
                part = await write(half)
            except SQLAlchemyError as failure:
                if not refuses_the_data(failure):
                    raise
                part, part_refused = await self._halves(half, failure, write)
            written = written.plus(part, offset=start)
            refused += [(start + index, reason) for index, reason in part_refused]
        return written, refused


async def truncate_chat_tables(*, engine: AsyncEngine) -> None:
    """Empty every chat table and rollup (``tally replay --rebuild``); partitions stay."""
    async with engine.begin() as connection:
        await connection.execute(text(f"TRUNCATE {', '.join(table.name for table in CHAT_TABLES)}"))


@dataclass(frozen=True)
class RetentionCounts:
    """Raw rows of one chat older than ``cutoff`` (now minus its ``retention_days``): what
    retention would delete (preview) or deleted (apply), per table; ``stream_events``: the
    chat's events purged from CHAT_EVENTS (``tally.chatstore.write.retention``; 0 in a preview);
    ``message_reactions`` and ``message_reaction_totals``: the reactions standing per message
    and emoji, and per message, of the messages deleted."""

    chat_id: int
    title: str | None
    retention_days: int
    cutoff: datetime
    messages: int
    member_events: int
    reactions: int
    reaction_counts: int
    stream_events: int = 0
    message_reactions: int = 0
    message_reaction_totals: int = 0


async def _retention(
    connection: AsyncConnection, *, now: datetime, apply: bool
) -> list[RetentionCounts]:
    chats = await connection.execute(
        select(CHATS.c.chat_id, CHATS.c.title, CHATS.c.retention_days)
        .where(CHATS.c.retention_days.is_not(None))
        .order_by(CHATS.c.chat_id)
    )
    report = []
    for chat_id, title, days in chats.all():
        cutoff = now - timedelta(days=days)
        counts: dict[str, int] = {}
        for table, moment in RAW_TABLES:
            older = (table.c.chat_id == chat_id) & (moment < cutoff)
            if apply:
                deleted = await connection.execute(delete(table).where(older))
                counts[table.name] = deleted.rowcount
            else:
                found = select(func.count()).select_from(table).where(older)
                counts[table.name] = (await connection.execute(found)).scalar_one()
        report.append(RetentionCounts(chat_id, title, days, cutoff, **counts))
    return report


async def retention_preview(*, engine: AsyncEngine, now: datetime) -> list[RetentionCounts]:
    """Per chat with ``retention_days`` set, the raw rows older than ``now`` minus that many
    days (messages by ``sent_at``, member events by ``occurred_at``, reactions by
    ``reacted_at``, reaction totals by ``updated_at``). Deletes nothing."""
    async with engine.connect() as connection:
        return await _retention(connection, now=now, apply=False)


async def apply_retention(*, engine: AsyncEngine, now: datetime) -> list[RetentionCounts]:
    """Delete what :func:`retention_preview` lists, in one transaction; return the counts
    deleted. The rollups are kept: the days whose raw rows are gone still count."""
    async with engine.begin() as connection:
        return await _retention(connection, now=now, apply=True)
