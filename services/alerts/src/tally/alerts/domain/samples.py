"""Observed metrics: a pure sample store with one ring buffer per series, and reducers.

A series is a metric name and a label set (``consumer_pending{stream="X",consumer="ingest"}``).
Each holds at most ``capacity`` samples ``(t, value)`` (t: Unix seconds, UTC) and forgets
samples older than ``retention_s``. Reducers fold the samples in ``[now - window_s, now]``:

- ``last``, ``avg``, ``max``, ``min``: as in PromQL's ``*_over_time`` functions;
- ``increase``: the sum of rises between consecutive samples, a fall being read as a counter
  reset (PromQL's ``increase`` without extrapolation); needs two samples;
- ``rate``: ``increase / window_s`` (per second).

A window without samples (or fewer than ``min_samples``) reduces to None: no data, so the
rule's condition is false.
"""

import itertools
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from tally.alerts.domain.labels import LabelKey, label_key
from tally.alerts.domain.matchers import Matcher, matches_all
from tally.alerts.domain.rules import MetricSource, Reducer

Sample = tuple[float, float]


def _increase(values: Sequence[float]) -> float | None:
    if len(values) < 2:
        return None
    return sum(b - a if b >= a else b for a, b in itertools.pairwise(values))


REDUCERS: dict[str, Callable[[Sequence[float]], float | None]] = {
    "last": lambda values: values[-1],
    "avg": lambda values: sum(values) / len(values),
    "max": max,
    "min": min,
    "increase": _increase,
}


def reduce(samples: Sequence[float], reducer: Reducer, window_s: float) -> float | None:
    """Fold the window's values (oldest first) with ``reducer``; None when there are none."""
    if not samples:
        return None
    if reducer == "rate":
        increase = _increase(samples)
        return None if increase is None else increase / window_s
    return REDUCERS[reducer](samples)


@dataclass
class SampleStore:
    """Series by (metric, labels), each a ring buffer of ``capacity`` samples."""

    capacity: int = 10_000
    retention_s: float = 24 * 3600.0
    _series: dict[tuple[str, LabelKey], deque[Sample]] = field(default_factory=dict)

    def record(
        self, metric: str, value: float, at: float, labels: Mapping[str, str] | None = None
    ) -> None:
        """Append ``value`` at ``at`` (Unix seconds) to the series; drop expired samples."""
        key = (metric, label_key(labels or {}))
        buffer = self._series.get(key)
        if buffer is None:
            buffer = self._series[key] = deque(maxlen=self.capacity)
        buffer.append((at, value))
        while buffer and buffer[0][0] < at - self.retention_s:
            buffer.popleft()

    def series(self, metric: str, matchers: Sequence[Matcher] = ()) -> Iterator[LabelKey]:
        """The label sets of ``metric``'s series that satisfy every matcher."""
        for (name, labels), _ in self._series.items():
            if name == metric and matches_all(matchers, dict(labels)):
                yield labels

    def window(self, metric: str, labels: LabelKey, now: float, window_s: float) -> list[float]:
        """The values of one series in ``[now - window_s, now]``, oldest first."""
        buffer = self._series.get((metric, labels), ())
        return [value for at, value in buffer if now - window_s <= at <= now]

    def forget(self, metric: str, labels: LabelKey) -> None:
        """Drop one series (a consumer that was deleted)."""
        self._series.pop((metric, labels), None)


def metric_values(
    store: SampleStore, source: MetricSource, matchers: Sequence[Matcher], now: float
) -> dict[LabelKey, float | None]:
    """Each matching series of ``source.metric`` reduced over its window ending at ``now``
    (Unix seconds); None for a series with fewer than ``source.min_samples`` samples."""
    values: dict[LabelKey, float | None] = {}
    for labels in store.series(source.metric, matchers):
        window = store.window(source.metric, labels, now, source.window_s)
        enough = len(window) >= max(source.min_samples, 1)
        values[labels] = reduce(window, source.reduce, source.window_s) if enough else None
    return values
