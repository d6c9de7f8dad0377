"""Operations reports for Tally's admins: the Telegram commands /analytics, /metrics and /health.

The gateway has no database, so it asks (core NATS request on ``{p}.reports.ops``) with an
:class:`OpsReportRequested`; the executor answers with an :class:`OpsReport` read from the
questions log, the bot users, the ingest tables, JetStream and PostgreSQL's own statistics.
A report is a list of titled sections of label/value rows, already formatted (the gateway
only escapes and lays them out), so a new figure needs no change on the gateway.
"""

from typing import Final, Literal, get_args

from pydantic import Field

from tally.contracts.events import Event

OpsKind = Literal["analytics", "metrics", "health"]
MetricsCategory = Literal["performance", "business", "engagement", "system"]
METRICS_CATEGORIES: Final[tuple[MetricsCategory, ...]] = get_args(MetricsCategory)
"""The categories of /metrics, in the order the usage line lists them."""
MAX_HOURS: Final = 24 * 31


class OpsReportRequested(Event):
    """A report of ``kind`` over the last ``hours`` hours (ending now, UTC). ``category`` is
    which part of /metrics (None: performance); the other kinds ignore it."""

    kind: OpsKind
    category: MetricsCategory | None = None
    hours: int = Field(default=24, ge=1, le=MAX_HOURS)


class Row(Event):
    """One figure: a label ("Questions") and its value as shown ("1,234", "98.5%", "12 ms")."""

    label: str = Field(max_length=200)
    value: str = Field(max_length=300)


class Section(Event):
    """A titled group of rows ("Questions (last 24 h)")."""

    title: str = Field(max_length=200)
    rows: tuple[Row, ...] = ()


class OpsReport(Event):
    """What the command shows, section by section. ``error`` is a sentence for the admin when
    the report could not be made (then ``sections`` holds what could be read, maybe none)."""

    kind: OpsKind
    category: MetricsCategory | None = None
    sections: tuple[Section, ...] = ()
    error: str | None = Field(default=None, max_length=500)
