"""A circuit breaker: after repeated failures, stop calling a dependency for a while.

The classic three states (Nygard, *Release It!*, "Circuit Breaker"): **closed** lets calls
through and counts consecutive failures; at ``failures`` it turns **open** and refuses every
call for ``reset_s`` seconds; then it is **half-open** and lets exactly one trial call
through: a success closes it, a failure opens it again for another ``reset_s``.
"""

import time
from collections.abc import Callable
from typing import Literal

State = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """The breaker's state for one dependency; not thread-safe (one event loop).

    Use: ``if breaker.allow(): ...call...; breaker.succeeded() or breaker.failed()``.
    ``clock`` returns seconds (monotonic); tests pass their own.
    """

    def __init__(
        self, *, failures: int, reset_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.failures = failures
        self.reset_s = reset_s
        self._clock = clock
        self._consecutive = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> State:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at < self.reset_s:
            return "open"
        return "half_open"

    def allow(self) -> bool:
        """True when a call may go ahead; in half-open, only for the first caller (the trial)."""
        state = self.state
        if state == "closed":
            return True
        if state == "open" or self._trial_running:
            return False
        self._trial_running = True
        return True

    def succeeded(self) -> None:
        """A call went well: the breaker closes and the failure count starts again."""
        self._consecutive = 0
        self._opened_at = None
        self._trial_running = False

    def failed(self) -> None:
        """A call failed: one more consecutive failure; at ``failures`` (or after a failed
        trial) the breaker opens for ``reset_s``."""
        self._consecutive += 1
        if self._trial_running or self._consecutive >= self.failures:
            self._opened_at = self._clock()
        self._trial_running = False
