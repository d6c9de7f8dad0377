"""RecentQuestions in memory: in flight, handled, forgotten after a failure, its TTL and size."""

import asyncio
from contextlib import AbstractContextManager, nullcontext
from uuid import UUID, uuid4

import pytest

from tally.infra.idempotency import RecentQuestions


class Clock:
    """Seconds that move only when told."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _failed(result: str) -> bool:
    return result == "failed"


def test_an_id_is_new_then_in_flight_then_handled() -> None:
    """The first start claims an id; a second sees it in flight; after finish, handled with
    its result."""
    recent: RecentQuestions[str] = RecentQuestions()
    question_id = uuid4()
    assert recent.start(question_id) is None
    seen = recent.start(question_id)
    assert seen is not None and seen.in_flight
    recent.finish(question_id, "answered")
    seen = recent.start(question_id)
    assert seen is not None and not seen.in_flight and seen.result == "answered"


def test_a_forgotten_id_is_new_again() -> None:
    recent: RecentQuestions[str] = RecentQuestions()
    question_id = uuid4()
    recent.start(question_id)
    recent.forget(question_id)
    assert recent.start(question_id) is None


def test_ids_expire_after_the_ttl() -> None:
    """An id handled at t is remembered until t + ttl_s, then new again."""
    clock = Clock()
    recent: RecentQuestions[str] = RecentQuestions(ttl_s=600, clock=clock)
    question_id = uuid4()
    recent.start(question_id)
    clock.now = 10.0
    recent.finish(question_id, "answered")
    clock.now = 609.9
    assert recent.start(question_id) is not None
    clock.now = 610.0
    assert recent.start(question_id) is None


def test_at_most_size_ids_are_kept_oldest_forgotten_first() -> None:
    recent: RecentQuestions[str] = RecentQuestions(size=3)
    ids = [uuid4() for _ in range(5)]
    for question_id in ids:
        recent.start(question_id)
    assert len(recent) == 3
    assert recent.start(ids[0]) is None
    assert recent.start(ids[4]) is not None


async def test_once_runs_an_attempt_once_while_it_is_in_flight() -> None:
    """Four concurrent asks of one id run the attempt once; the other three get the id in
    flight; an ask afterwards gets the result."""
    recent: RecentQuestions[str] = RecentQuestions()
    question_id, runs = uuid4(), []

    async def attempt() -> str:
        runs.append(1)
        await asyncio.sleep(0.05)
        return "answered"

    seen = await asyncio.gather(
        *(recent.once(question_id, attempt, failed=_failed) for _ in range(4))
    )
    assert len(runs) == 1
    assert seen[0] is None and all(s is not None and s.in_flight for s in seen[1:])
    after = await recent.once(question_id, attempt, failed=_failed)
    assert after is not None and after.result == "answered" and len(runs) == 1


@pytest.mark.parametrize("outcome", ["failed", "raises"])
async def test_once_forgets_a_failed_attempt(outcome: str) -> None:
    """A ``failed`` result, or an error, lets the next ask run the attempt again."""
    recent: RecentQuestions[str] = RecentQuestions()
    question_id: UUID = uuid4()

    async def attempt() -> str:
        if outcome == "raises":
            raise ConnectionError("bus down")
        return "failed"

    expected: AbstractContextManager[object] = (
        pytest.raises(ConnectionError) if outcome == "raises" else nullcontext()
    )
    with expected:
        await recent.once(question_id, attempt, failed=_failed)
    assert recent.start(question_id) is None
