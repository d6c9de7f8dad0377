"""The figures of the admins' operations reports, read from PostgreSQL (read-only).

Every function takes an asyncpg connection or pool (``fetch``/``fetchrow`` with ``$n``
parameters) logged in as a role that may read the questions log, ``bot_users``,
``messages`` and ``video_snapshots`` (``tally_ops``, migration 0006), and a window
``(since, until]`` of UTC instants. Users are counted by Telegram user id over the questions
log (any channel): DAU, WAU and MAU are the distinct people who asked in the 1, 7 and 30
days ending at ``until``.

Latency percentiles are PostgreSQL's ``percentile_cont`` (linear interpolation between the
two nearest ranks). ``total_ms`` runs from the question being asked to its answer being
published; ``elapsed_ms`` is the time spent in the database (0 when no query ran: refused,
ambiguous or cached answers, which the database-time figures leave out).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal, Protocol


class Fetcher(Protocol):
    """What asyncpg's connections and pools offer."""

    async def fetch(self, query: str, *args: Any) -> list[Any]: ...

    async def fetchrow(self, query: str, *args: Any) -> Any: ...


@dataclass(frozen=True, slots=True)
class QuestionSummary:
    """Questions asked in the window, by outcome, with latency (ms) and feedback.

    Percentiles are None when no question (or, for ``db_*``, no query) is in the window."""

    total: int
    answered: int
    refused: int
    failed: int
    ambiguous: int
    users: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    db_p50_ms: float | None
    db_p95_ms: float | None
    db_queries: int
    thumbs_up: int
    thumbs_down: int


@dataclass(frozen=True, slots=True)
class ActiveUsers:
    """Distinct people who asked in the 1, 7 and 30 days ending at ``until``; ``new`` bot users
    first seen in the window, ``returning`` people who asked in the window but were first seen
    before it; ``known`` every bot user ever seen."""

    dau: int
    wau: int
    mau: int
    new: int
    returning: int
    known: int


@dataclass(frozen=True, slots=True)
class Count:
    """A label and how many questions (or rows) it has."""

    label: str
    count: int


@dataclass(frozen=True, slots=True)
class IngestVolume:
    """Chat messages sent (and stored) and video snapshots taken in the window."""

    messages: int
    video_snapshots: int


@dataclass(frozen=True, slots=True)
class DatabaseSize:
    """The database's size on disk (bytes) and the connections open to it, of at most
    ``max_connections`` on the server."""

    bytes: int
    connections: int
    max_connections: int


Breakdown = Literal["outcome", "language", "engine"]
_BREAKDOWN_COLUMNS: Final[dict[Breakdown, str]] = {
    "outcome": "outcome",
    "language": "language",
    "engine": "engine",
}
"""The only columns a breakdown may group by (never text from a request)."""
WINDOW: Final = "asked_at > $1 AND asked_at <= $2"

_SUMMARY = f"""
SELECT count(*) AS total,
       count(*) FILTER (WHERE outcome = 'answered') AS answered,
       count(*) FILTER (WHERE outcome = 'refused') AS refused,
       count(*) FILTER (WHERE outcome = 'failed') AS failed,
       count(*) FILTER (WHERE outcome = 'ambiguous') AS ambiguous,
       count(DISTINCT user_id) AS users,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY total_ms) AS p50_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY total_ms) AS p95_ms,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY total_ms) AS p99_ms,
       max(total_ms) AS max_ms,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY elapsed_ms)
           FILTER (WHERE elapsed_ms > 0) AS db_p50_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY elapsed_ms)
           FILTER (WHERE elapsed_ms > 0) AS db_p95_ms,
       count(*) FILTER (WHERE elapsed_ms > 0) AS db_queries,
       count(*) FILTER (WHERE feedback = 'up') AS thumbs_up,
       count(*) FILTER (WHERE feedback = 'down') AS thumbs_down
FROM questions WHERE {WINDOW}
"""
_ACTIVE = """
SELECT count(DISTINCT user_id) FILTER (WHERE asked_at > $1::timestamptz - interval '1 day')
           AS dau,
       count(DISTINCT user_id) FILTER (WHERE asked_at > $1::timestamptz - interval '7 days')
           AS wau,
       count(DISTINCT user_id) AS mau
FROM questions WHERE asked_at > $1::timestamptz - interval '30 days' AND asked_at <= $1
"""
_BOT_USERS = """
SELECT count(*) FILTER (WHERE first_seen_at > $1 AND first_seen_at <= $2) AS new,
       count(*) AS known
FROM bot_users
"""
_RETURNING = """
SELECT count(DISTINCT q.user_id) AS returning
FROM questions q JOIN bot_users b ON b.user_id = q.user_id
WHERE q.asked_at > $1 AND q.asked_at <= $2 AND b.first_seen_at <= $1
"""
_TYPES = f"""
SELECT plan->>'dataset' AS dataset, plan->'measure'->>'aggregate' AS aggregate,
       count(*) AS count
FROM questions WHERE {WINDOW} AND plan IS NOT NULL
GROUP BY 1, 2 ORDER BY count DESC, dataset, aggregate LIMIT $3
"""
_REASONS = f"""
SELECT left(reason, 80) AS reason, count(*) AS count
FROM questions WHERE {WINDOW} AND outcome = 'refused' AND reason IS NOT NULL
GROUP BY 1 ORDER BY count DESC, reason LIMIT $3
"""
_INGEST = """
SELECT (SELECT count(*) FROM messages WHERE sent_at > $1 AND sent_at <= $2) AS messages,
       (SELECT count(*) FROM video_snapshots WHERE created_at > $1 AND created_at <= $2)
           AS video_snapshots
"""
_DATABASE = """
SELECT pg_database_size(current_database()) AS bytes,
       (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database())
           AS connections,
       current_setting('max_connections')::int AS max_connections
"""


def _int(value: Any) -> int:
    return int(value or 0)


def _ms(value: Any) -> float | None:
    return None if value is None else float(value)


async def question_summary(db: Fetcher, *, since: datetime, until: datetime) -> QuestionSummary:
    """Questions asked in ``(since, until]``: counts by outcome, distinct askers, latency
    percentiles (ms) and 👍/👎 feedback."""
    row = await db.fetchrow(_SUMMARY, since, until)
    return QuestionSummary(
        total=_int(row["total"]),
        answered=_int(row["answered"]),
        refused=_int(row["refused"]),
        failed=_int(row["failed"]),
        ambiguous=_int(row["ambiguous"]),
        users=_int(row["users"]),
        p50_ms=_ms(row["p50_ms"]),
        p95_ms=_ms(row["p95_ms"]),
        p99_ms=_ms(row["p99_ms"]),
        max_ms=_ms(row["max_ms"]),
        db_p50_ms=_ms(row["db_p50_ms"]),
        db_p95_ms=_ms(row["db_p95_ms"]),
        db_queries=_int(row["db_queries"]),
        thumbs_up=_int(row["thumbs_up"]),
        thumbs_down=_int(row["thumbs_down"]),
    )


async def active_users(db: Fetcher, *, since: datetime, until: datetime) -> ActiveUsers:
    """DAU, WAU and MAU at ``until``; new and returning users of ``(since, until]``."""
    active = await db.fetchrow(_ACTIVE, until)
    known = await db.fetchrow(_BOT_USERS, since, until)
    returning = await db.fetchrow(_RETURNING, since, until)
    return ActiveUsers(
        dau=_int(active["dau"]),
        wau=_int(active["wau"]),
        mau=_int(active["mau"]),
        new=_int(known["new"]),
        returning=_int(returning["returning"]),
        known=_int(known["known"]),
    )


async def question_types(
    db: Fetcher, *, since: datetime, until: datetime, limit: int = 5
) -> list[Count]:
    """The ``limit`` most asked kinds of question, as "dataset · aggregate" of their plans
    (questions without a plan left out), most asked first (ties by name)."""
    rows = await db.fetch(_TYPES, since, until, limit)
    return [Count(f"{row['dataset']} · {row['aggregate']}", _int(row["count"])) for row in rows]


async def refusal_reasons(
    db: Fetcher, *, since: datetime, until: datetime, limit: int = 5
) -> list[Count]:
    """The ``limit`` commonest reasons of refused questions (their first 80 characters: the
    reasons are a fixed set of sentences per language), commonest first."""
    rows = await db.fetch(_REASONS, since, until, limit)
    return [Count(str(row["reason"]), _int(row["count"])) for row in rows]


async def breakdown(
    db: Fetcher, by: Breakdown, *, since: datetime, until: datetime, limit: int = 10
) -> list[Count]:
    """Questions of ``(since, until]`` by ``by`` (outcome, language or engine; "none" when
    unset), most first (ties by name), at most ``limit`` rows."""
    column = _BREAKDOWN_COLUMNS[by]
    sql = (
        f"SELECT coalesce({column}, 'none') AS label, count(*) AS count FROM questions"
        f" WHERE {WINDOW} GROUP BY 1 ORDER BY count DESC, label LIMIT $3"
    )
    rows = await db.fetch(sql, since, until, limit)
    return [Count(str(row["label"]), _int(row["count"])) for row in rows]


async def ingest_volume(db: Fetcher, *, since: datetime, until: datetime) -> IngestVolume:
    """Chat messages sent and video snapshots taken in ``(since, until]``."""
    row = await db.fetchrow(_INGEST, since, until)
    return IngestVolume(
        messages=_int(row["messages"]), video_snapshots=_int(row["video_snapshots"])
    )


async def database_size(db: Fetcher) -> DatabaseSize:
    """The current database's size and open connections (``pg_stat_activity``)."""
    row = await db.fetchrow(_DATABASE)
    return DatabaseSize(
        bytes=_int(row["bytes"]),
        connections=_int(row["connections"]),
        max_connections=_int(row["max_connections"]),
    )


def window(hours: int, *, until: datetime) -> tuple[datetime, datetime]:
    """``(since, until]`` of the ``hours`` hours ending at ``until``."""
    return until - timedelta(hours=hours), until
