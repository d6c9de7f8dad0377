"""A failure-rate rule over a sliding time window, with firing and resolved transitions.

The rule follows Prometheus' ``rate over a window > threshold`` alerts: it fires once when
the rate crosses the threshold, stays firing without repeating, and resolves once when the
rate falls back below it (or the window holds too few questions to judge).
"""

from collections import deque
from dataclasses import dataclass, field
from typing import Literal

Transition = Literal["firing", "resolved"]


@dataclass(frozen=True, slots=True)
class FailureRateRule:
    """Fire when ``failed / total >= threshold`` over ``window_s`` with ``total >= min_events``."""

    window_s: float
    threshold: float
    min_events: int


@dataclass
class FailureRateWindow:
    """Outcomes seen in the last ``rule.window_s`` seconds (times: Unix seconds, UTC)."""

    rule: FailureRateRule
    firing: bool = False
    _events: deque[tuple[float, bool]] = field(default_factory=deque)
    _failed: int = 0

    def observe(self, at: float, *, failed: bool) -> None:
        """Record one answered question's outcome at time ``at`` (O(1))."""
        self._events.append((at, failed))
        self._failed += failed

    def rate(self, now: float) -> tuple[float, int]:
        """(failure rate 0..1, questions counted) over the window ending at ``now``;
        amortised O(1): each event is counted in once and out once."""
        while self._events and self._events[0][0] <= now - self.rule.window_s:
            _, failed = self._events.popleft()
            self._failed -= failed
        total = len(self._events)
        return (self._failed / total if total else 0.0), total

    def evaluate(self, now: float) -> Transition | None:
        """ "firing" or "resolved" when the state changes at ``now``, else None."""
        rate, total = self.rate(now)
        breached = total >= self.rule.min_events and rate >= self.rule.threshold
        if breached and not self.firing:
            self.firing = True
            return "firing"
        if not breached and self.firing:
            self.firing = False
            return "resolved"
        return None
