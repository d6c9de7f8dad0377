"""Questions asked again: the ids a service is answering or has lately answered, in memory.

A late question is published again under the same id (the gateway's and ``tally ask``'s
re-asks, after 2, 6 and 14 s: see tally.gateway.domain.reasks), since core NATS loses a
question whose replica dies. nl2sql and the executor each keep the ids they are handling or
have handled for ``ttl_s`` seconds, at most ``size`` of them (the oldest forgotten first), so
a slow question asked four times is read by the LLM, or run on the database, once. A repeat
of a handled id gets the result kept (nl2sql's event, the executor's answer) published again:
a question is asked again only when its answer did not arrive, lost on the way, say, with a
NATS node that died. A failed attempt is forgotten: asking again tries again.

The memory is each replica's own. A question asked again goes to whichever replica of the
queue group NATS picks, so with several replicas a slow question is read at most once per
replica; and a replica that dies forgets its ids with it, which is what lets another replica
answer the questions it held.
"""

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar
from uuid import UUID

T = TypeVar("T")

TTL_S = 600.0
"""How long an id is remembered (s): far longer than a question is re-asked (15 s)."""
SIZE = 4096
"""Most ids remembered at once."""


@dataclass(frozen=True, slots=True)
class Seen(Generic[T]):
    """A question id met before: ``result`` is None while its first attempt is in flight."""

    at: float
    result: T | None = None

    @property
    def in_flight(self) -> bool:
        return self.result is None


class RecentQuestions(Generic[T]):
    """The question ids in flight or handled within ``ttl_s`` seconds (``clock`` seconds,
    monotonic), at most ``size``; a handled id keeps its result (never None)."""

    def __init__(
        self,
        *,
        ttl_s: float = TTL_S,
        size: int = SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s, self.size, self._clock = ttl_s, size, clock
        self._seen: OrderedDict[UUID, Seen[T]] = OrderedDict()

    async def once(
        self,
        question_id: UUID,
        attempt: Callable[[], Awaitable[T]],
        *,
        failed: Callable[[T], bool],
    ) -> Seen[T] | None:
        """Run ``attempt`` when ``question_id`` is new here and return None; else run nothing
        and return what was seen of it. An attempt that raises, or whose result is
        ``failed``, is forgotten (asking again runs it again); another is :meth:`finish` ed."""
        if (seen := self.start(question_id)) is not None:
            return seen
        try:
            result = await attempt()
        except BaseException:
            self.forget(question_id)
            raise
        if failed(result):
            self.forget(question_id)
        else:
            self.finish(question_id, result)
        return None

    def start(self, question_id: UUID) -> Seen[T] | None:
        """None when ``question_id`` is new here (from now on it is in flight); else what was
        seen of it: in flight, or handled with its result."""
        now = self._clock()
        self._expire(now)
        if (seen := self._seen.get(question_id)) is not None:
            return seen
        self._keep(question_id, Seen(at=now))
        return None

    def finish(self, question_id: UUID, result: T) -> None:
        """``question_id`` was handled: asking again within ``ttl_s`` from now sees ``result``."""
        self._seen.pop(question_id, None)
        self._keep(question_id, Seen(at=self._clock(), result=result))

    def forget(self, question_id: UUID) -> None:
        """The attempt failed: asking again handles ``question_id`` afresh."""
        self._seen.pop(question_id, None)

    def __len__(self) -> int:
        return len(self._seen)

    def _keep(self, question_id: UUID, seen: Seen[T]) -> None:
        self._seen[question_id] = seen
        while len(self._seen) > self.size:
            self._seen.popitem(last=False)

    def _expire(self, now: float) -> None:
        """Drop the ids older than ``ttl_s`` (kept in the order they were last stored)."""
        while self._seen:
            oldest = next(iter(self._seen.values()))
            if now - oldest.at < self.ttl_s:
                return
            self._seen.popitem(last=False)
