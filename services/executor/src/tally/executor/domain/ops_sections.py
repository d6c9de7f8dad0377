"""The sections of the admins' operations reports, from figures already read (pure).

Values are formatted here, once, for every channel: counts with thousands separators,
shares as percentages of a stated whole, durations in ms, sizes in binary units.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tally.contracts.ops_reports import Row, Section
from tally.executor.ops_stats import ActiveUsers, Count, DatabaseSize, IngestVolume, QuestionSummary
from tally.runtime.health import Check

NONE = "—"
"""What a figure without data (no questions in the window) shows."""


@dataclass(frozen=True, slots=True)
class StreamState:
    """One JetStream stream: messages and bytes stored, consumers on it."""

    name: str
    messages: int
    bytes: int
    consumers: int


@dataclass(frozen=True, slots=True)
class ConsumerState:
    """One durable consumer: messages not delivered yet, and delivered but not acked."""

    stream: str
    name: str
    pending: int
    ack_pending: int


def count(value: int) -> str:
    """``1234`` -> ``"1,234"``."""
    return f"{value:,}"


def share(part: int, whole: int) -> str:
    """``part`` of ``whole`` as a percentage with one decimal ("93.3%"); — when ``whole`` is 0."""
    return f"{100 * part / whole:.1f}%" if whole else NONE


def ms(value: float | None) -> str:
    """A duration in ms: one decimal under 10 ms, whole ms above; — for None."""
    if value is None:
        return NONE
    return f"{value:.1f} ms" if value < 10 else f"{value:,.0f} ms"


def size(value: int) -> str:
    """Bytes in binary units: "512 B", "3.4 KiB", "12.0 MiB", "1.2 GiB"."""
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024 or unit == "GiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")


def period(hours: int) -> str:
    """ "last 24 h", "last 7 d" (whole days), "last 30 h"."""
    return f"last {hours // 24} d" if hours % 24 == 0 and hours > 24 else f"last {hours} h"


def _rows(pairs: Iterable[tuple[str, str]]) -> tuple[Row, ...]:
    return tuple(Row(label=label, value=value) for label, value in pairs)


def _counts(title: str, counts: Sequence[Count]) -> Section:
    rows = [(item.label, count(item.count)) for item in counts] or [("none", "0")]
    return Section(title=title, rows=_rows(rows))


def feedback(summary: QuestionSummary) -> str:
    """ "👍 3 · 👎 1"."""
    return f"👍 {count(summary.thumbs_up)} · 👎 {count(summary.thumbs_down)}"


def questions(summary: QuestionSummary, hours: int) -> Section:
    """Questions by outcome, the success rate (answered of all), latency and feedback."""
    total = summary.total
    success = f"{share(summary.answered, total)} ({count(summary.answered)} of {count(total)})"
    return Section(
        title=f"Questions ({period(hours)})",
        rows=_rows(
            [
                ("Questions", count(total)),
                ("Success rate", success),
                ("Refused", f"{count(summary.refused)} ({share(summary.refused, total)})"),
                ("Failed", f"{count(summary.failed)} ({share(summary.failed, total)})"),
                ("Ambiguous", count(summary.ambiguous)),
                ("Latency p50 / p95", f"{ms(summary.p50_ms)} / {ms(summary.p95_ms)}"),
                ("Feedback", feedback(summary)),
            ]
        ),
    )


def analytics(
    summary: QuestionSummary,
    users: ActiveUsers,
    types: Sequence[Count],
    reasons: Sequence[Count],
    ingest: IngestVolume,
    hours: int,
) -> tuple[Section, ...]:
    """/analytics: questions, users, the top kinds of question and refusal, ingest volume."""
    return (
        questions(summary, hours),
        Section(title="Users", rows=_rows([("DAU", count(users.dau)), ("MAU", count(users.mau))])),
        _counts("Top question types", types),
        _counts("Top refusal reasons", reasons),
        Section(
            title=f"Ingest ({period(hours)})",
            rows=_rows(
                [
                    ("Chat messages", count(ingest.messages)),
                    ("Video snapshots", count(ingest.video_snapshots)),
                ]
            ),
        ),
    )


def performance(
    summary: QuestionSummary, cache_hits: int, cache_lookups: int, hours: int
) -> tuple[Section, ...]:
    """/metrics performance: end-to-end latency, database time, answer cache hit share
    (``cache_*`` counted by this executor since it started)."""
    cache = f"{share(cache_hits, cache_lookups)} ({count(cache_hits)} of {count(cache_lookups)})"
    return (
        Section(
            title=f"Performance ({period(hours)})",
            rows=_rows(
                [
                    ("Questions", count(summary.total)),
                    ("Latency p50", ms(summary.p50_ms)),
                    ("Latency p95", ms(summary.p95_ms)),
                    ("Latency p99", ms(summary.p99_ms)),
                    ("Latency max", ms(summary.max_ms)),
                    ("DB time p50 / p95", f"{ms(summary.db_p50_ms)} / {ms(summary.db_p95_ms)}"),
                    ("Queries run", count(summary.db_queries)),
                ]
            ),
        ),
        Section(title="Answer cache (since start)", rows=_rows([("Hit share", cache)])),
    )


def business(
    by_outcome: Sequence[Count],
    by_language: Sequence[Count],
    by_engine: Sequence[Count],
    hours: int,
) -> tuple[Section, ...]:
    """/metrics business: questions by outcome, language and engine."""
    return (
        _counts(f"Questions by outcome ({period(hours)})", by_outcome),
        _counts("By language", by_language),
        _counts("By engine", by_engine),
    )


def engagement(users: ActiveUsers, summary: QuestionSummary, hours: int) -> tuple[Section, ...]:
    """/metrics engagement: active users, new and returning users, feedback."""
    return (
        Section(
            title=f"Engagement ({period(hours)})",
            rows=_rows(
                [
                    ("DAU", count(users.dau)),
                    ("WAU", count(users.wau)),
                    ("MAU", count(users.mau)),
                    ("New users", count(users.new)),
                    ("Returning users", count(users.returning)),
                    ("Bot users, all time", count(users.known)),
                    ("Feedback", feedback(summary)),
                ]
            ),
        ),
    )


def system(
    streams: Sequence[StreamState], consumers: Sequence[ConsumerState], database: DatabaseSize
) -> tuple[Section, ...]:
    """/metrics system: each stream's messages and bytes, each consumer's backlog, and the
    database's size and connections."""
    stream_rows = [
        (item.name, f"{count(item.messages)} msgs · {size(item.bytes)}") for item in streams
    ]
    consumer_rows = [
        (
            f"{item.stream}/{item.name}",
            f"pending {count(item.pending)} · ack pending {count(item.ack_pending)}",
        )
        for item in consumers
    ]
    connections = f"{count(database.connections)} of {count(database.max_connections)}"
    return (
        Section(title="JetStream streams", rows=_rows(stream_rows or [("none", "0")])),
        Section(title="JetStream consumers", rows=_rows(consumer_rows or [("none", "0")])),
        Section(
            title="PostgreSQL",
            rows=_rows([("Size", size(database.bytes)), ("Connections", connections)]),
        ),
    )


def health(checks: Sequence[Check]) -> tuple[Section, ...]:
    """/health: one row per component, "up · 3 ms · detail" or "down · 2,000 ms · detail"
    (no time for a check that took none, such as the executor saying it answers)."""
    rows = [(check.component, " · ".join(_health_parts(check))) for check in checks]
    return (Section(title="Components", rows=_rows(rows)),)


def _health_parts(check: Check) -> list[str]:
    timing = [ms(check.elapsed_ms)] if check.elapsed_ms > 0 else []
    return [check.status, *timing, check.detail]
