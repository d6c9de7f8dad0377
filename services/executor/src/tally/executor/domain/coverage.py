"""Growth the snapshots never measured: a plan over snapshot deltas whose time range lies
outside the hours the hourly snapshots cover.

A delta is the change since the previous hourly snapshot, so the growth of a day with no
snapshot is unknown, not 0: such a plan is refused with the covered span. A range that
covers part of the span is answered, and its interpretation says which part was measured.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

from tally.contracts.events import Language
from tally.semantic.plan import Dataset, QueryPlan

Cover = Literal["full", "partial", "none"]
_HOUR: Final = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class SnapshotSpan:
    """The first and the last snapshot's ``created_at`` (UTC); both None with no snapshots."""

    first: datetime | None
    last: datetime | None


def measures_growth(plan: QueryPlan) -> bool:
    """Whether ``plan`` reads snapshot deltas (in its measure or a filter) over a time range
    of the snapshots' own time."""
    if plan.dataset is not Dataset.SNAPSHOTS or plan.time_range is None:
        return False
    if plan.time_range.column != "created_at":
        return False
    columns = [plan.measure.column, *(f.column for f in (*plan.filters, *plan.measure.where))]
    return any(column and column.startswith("delta_") for column in columns)


def cover(plan: QueryPlan, span: SnapshotSpan) -> Cover:
    """How much of ``plan``'s half-open range ``[start, end)`` the snapshots span
    ``[first, last]`` covers."""
    assert plan.time_range is not None
    start, end = plan.time_range.start, plan.time_range.end
    if span.first is None or span.last is None or end <= span.first or start > span.last:
        return "none"
    return "full" if span.first <= start and span.last >= end - _HOUR else "partial"


_NONE: Final[dict[Language, str]] = {
    "en": "The hourly snapshots cover {span} (UTC) only, so growth outside those hours was "
    "never measured: I can't say how much it was. Ask about a day within that span.",
    "ru": "Почасовые замеры есть только за {span} (UTC), поэтому прирост вне этого периода не "
    "измерялся: назвать его я не могу. Спросите про день внутри этого периода.",
}
_PARTIAL: Final[dict[Language, str]] = {
    "en": " (measured only where the hourly snapshots reach: {span} UTC)",
    "ru": " (измерено только там, где есть почасовые замеры: {span} UTC)",
}


def _span(span: SnapshotSpan) -> str:
    assert span.first is not None and span.last is not None
    return f"{span.first:%Y-%m-%d %H:%M} – {span.last:%Y-%m-%d %H:%M}"


def not_measured(span: SnapshotSpan, language: Language) -> str:
    """The refusal for growth wholly outside the snapshots (with no snapshots at all, too)."""
    if span.first is None:
        return {
            "en": "There are no hourly snapshots yet, so no growth was measured.",
            "ru": "Почасовых замеров ещё нет, поэтому прирост не измерялся.",
        }[language]
    return _NONE[language].format(span=_span(span))


def partly_measured(span: SnapshotSpan, language: Language) -> str:
    """The note added to the interpretation of growth partly outside the snapshots."""
    return _PARTIAL[language].format(span=_span(span))
