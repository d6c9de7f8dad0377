"""The admins' operations reports (/analytics, /metrics, /health), answered by the executor.

Figures come from PostgreSQL through a small pool of its own as ``tally_ops`` (read-only
sessions, statement timeout; see :mod:`tally.executor.ops_stats`), from JetStream through the
broker's NATS connection, and the answer cache's hit share from this executor's own
Prometheus counter. A report that cannot be made is an :class:`OpsReport` with ``error``
set, never an exception; /health never fails, it says which component is down.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import structlog
from faststream.nats import NatsBroker
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from prometheus_client import CollectorRegistry

from tally.contracts.ops_reports import OpsReport, OpsReportRequested, Section
from tally.contracts.streams import stream_configs
from tally.contracts.subjects import Subjects
from tally.executor import ops_stats
from tally.executor.domain import ops_sections
from tally.executor.domain.ops_sections import ConsumerState, StreamState
from tally.executor.runner import Reader
from tally.infra.db.reader import diagnostic
from tally.runtime.health import Check, migration, streams_present, timed

HEALTH_TIMEOUT_S = 2.0
"""How long each /health probe may take (seconds); the gateway waits a few more."""
MAX_CONSUMERS = 20
"""Most consumers /metrics system lists (the report must fit one Telegram message)."""
FAILED = "The report is not available right now; see the executor's log."
log = structlog.get_logger(__name__)


class OpsReporter:
    """Answers :class:`OpsReportRequested`: ``reader`` is the pool plans run on (its health
    is checked), ``ops`` the ``tally_ops`` pool the figures are read from."""

    def __init__(
        self,
        *,
        reader: Reader,
        ops: Reader,
        broker: NatsBroker,
        subjects: Subjects,
        registry: CollectorRegistry,
    ) -> None:
        self._reader, self._ops, self._broker = reader, ops, broker
        self._subjects, self._registry = subjects, registry
        self._started = time.monotonic()

    async def answer(self, request: OpsReportRequested) -> OpsReport:
        """The report ``request`` asks for, over the hours ending now."""
        if request.kind == "health":
            return OpsReport(kind="health", sections=await self.health())
        category = (request.category or "performance") if request.kind == "metrics" else None
        try:
            sections = await self._figures(request, datetime.now(UTC))
        except Exception as error:  # the admin gets a sentence, the operator where it failed
            log.error(
                "ops report failed", kind=request.kind, category=category, **diagnostic(error)
            )
            return OpsReport(kind=request.kind, category=category, error=FAILED)
        return OpsReport(kind=request.kind, category=category, sections=sections)

    async def _figures(self, request: OpsReportRequested, now: datetime) -> tuple[Section, ...]:
        since, until = ops_stats.window(request.hours, until=now)
        db = await self._ops.pool()
        builders: dict[str, Callable[[], Awaitable[tuple[Section, ...]]]] = {
            "analytics": lambda: self._analytics(db, since, until, request.hours),
            "performance": lambda: self._performance(db, since, until, request.hours),
            "business": lambda: self._business(db, since, until, request.hours),
            "engagement": lambda: self._engagement(db, since, until, request.hours),
            "system": lambda: self._system(db),
        }
        key = request.kind if request.kind == "analytics" else request.category or "performance"
        return await builders[key]()

    async def _analytics(
        self, db: ops_stats.Fetcher, since: datetime, until: datetime, hours: int
    ) -> tuple[Section, ...]:
        return ops_sections.analytics(
            await ops_stats.question_summary(db, since=since, until=until),
            await ops_stats.active_users(db, since=since, until=until),
            await ops_stats.question_types(db, since=since, until=until),
            await ops_stats.refusal_reasons(db, since=since, until=until),
            await ops_stats.ingest_volume(db, since=since, until=until),
            hours,
        )

    async def _performance(
        self, db: ops_stats.Fetcher, since: datetime, until: datetime, hours: int
    ) -> tuple[Section, ...]:
        summary = await ops_stats.question_summary(db, since=since, until=until)
        hits = self._cache_lookups("hit")
        lookups = hits + self._cache_lookups("miss") + self._cache_lookups("error")
        return ops_sections.performance(summary, hits, lookups, hours)

    def _cache_lookups(self, result: str) -> int:
        found = self._registry.get_sample_value("tally_executor_cache_total", {"result": result})
        return int(found or 0)

    async def _business(
        self, db: ops_stats.Fetcher, since: datetime, until: datetime, hours: int
    ) -> tuple[Section, ...]:
        return ops_sections.business(
            await ops_stats.breakdown(db, "outcome", since=since, until=until),
            await ops_stats.breakdown(db, "language", since=since, until=until),
            await ops_stats.breakdown(db, "engine", since=since, until=until),
            hours,
        )

    async def _engagement(
        self, db: ops_stats.Fetcher, since: datetime, until: datetime, hours: int
    ) -> tuple[Section, ...]:
        users = await ops_stats.active_users(db, since=since, until=until)
        summary = await ops_stats.question_summary(db, since=since, until=until)
        return ops_sections.engagement(users, summary, hours)

    async def _system(self, db: ops_stats.Fetcher) -> tuple[Section, ...]:
        streams, consumers = await jetstream_state(self._js(), self._subjects)
        return ops_sections.system(streams, consumers, await ops_stats.database_size(db))

    def _js(self) -> JetStreamContext:
        return self._broker.connection.jetstream()

    async def health(self) -> tuple[Section, ...]:
        """This executor (answering, and for how long), PostgreSQL (``SELECT 1`` on the plans'
        pool, ms), the migration (read on the ops pool) and JetStream (the deployment's
        streams present); the probes run together, each bounded by HEALTH_TIMEOUT_S."""
        uptime_s = time.monotonic() - self._started
        me = Check("executor", "up", f"answering, up {_duration(uptime_s)}", 0.0)
        probes = await asyncio.gather(
            timed("postgresql", self._select_one(), timeout_s=HEALTH_TIMEOUT_S),
            timed("migration", self._migration(), timeout_s=HEALTH_TIMEOUT_S),
            timed("jetstream", self._streams(), timeout_s=HEALTH_TIMEOUT_S),
        )
        checks = [me, *probes]
        return ops_sections.health(checks)

    async def _select_one(self) -> str:
        pool = await self._reader.pool()
        if await pool.fetchval("SELECT 1") != 1:
            raise RuntimeError("SELECT 1 did not return 1")
        return "SELECT 1"

    async def _streams(self) -> str:
        return await streams_present(self._js(), self._subjects)

    async def _migration(self) -> str:
        return await migration(await self._ops.pool())


async def jetstream_state(
    js: JetStreamContext, subjects: Subjects
) -> tuple[list[StreamState], list[ConsumerState]]:
    """The deployment's streams that exist (messages, bytes, consumers) and their consumers'
    backlogs (at most MAX_CONSUMERS, by stream then name). Raises nats' errors."""
    streams: list[StreamState] = []
    consumers: list[ConsumerState] = []
    for name in (config.name or "" for config in stream_configs(subjects)):
        try:
            state = (await js.stream_info(name)).state
        except NotFoundError:
            continue
        streams.append(StreamState(name, state.messages, state.bytes, state.consumer_count))
        found = await js.consumers_info(name)
        consumers += sorted(
            (
                ConsumerState(name, info.name, info.num_pending or 0, info.num_ack_pending or 0)
                for info in found
            ),
            key=lambda consumer: consumer.name,
        )
    return streams, consumers[:MAX_CONSUMERS]


def _duration(seconds: float) -> str:
    """ "3 d 4 h", "2 h 5 min", "12 min", "40 s"."""
    whole = int(seconds)
    days, hours, minutes = whole // 86400, whole % 86400 // 3600, whole % 3600 // 60
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else f"{whole} s"
