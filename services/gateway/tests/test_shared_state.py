"""The gateways' shared state on real NATS: two gateways' views of one bucket, each on its own
connection, judging the same user's messages and presses at the same moment."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import nats
import pytest
from nats.aio.client import Client

from tally.contracts.events import Choice, QuestionAnswered, QuestionAsked
from tally.contracts.subjects import Subjects
from tally.gateway.domain.memory import PickRefusal, Verdict
from tally.gateway.shared import GatewayState, SharedChoices, SharedThrottle
from tally.infra.settings import CommonSettings
from tally.semantic.plan import Aggregate, Dataset, Measure, QueryPlan

MESSAGES = 40


@pytest.fixture
async def states(
    settings: CommonSettings, subjects: Subjects
) -> AsyncIterator[tuple[GatewayState, GatewayState]]:
    """Two gateways' states, opened on connections of their own."""
    connections: list[Client] = []
    opened = []
    for _ in range(2):
        connection = await nats.connect(settings.nats_url)
        connections.append(connection)
        state = GatewayState(subjects)
        await state.open(connection.jetstream())
        opened.append(state)
    yield opened[0], opened[1]
    for connection in connections:
        await connection.close()


async def test_concurrent_messages_on_two_gateways_pass_once_and_warn_once(
    states: tuple[GatewayState, GatewayState],
) -> None:
    """40 messages of one user judged at once, half on each gateway, within one interval:
    one is allowed, one warned, the rest dropped."""
    throttles = [SharedThrottle(state, "private", interval_s=60) for state in states]
    user = 61_000

    verdicts = await asyncio.gather(
        *(throttles[number % 2].check(user) for number in range(MESSAGES))
    )

    assert Counter(verdicts) == {Verdict.ALLOW: 1, Verdict.WARN: 1, Verdict.DROP: MESSAGES - 2}


async def test_a_user_this_gateway_judged_last_costs_one_round_trip(
    states: tuple[GatewayState, GatewayState], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user's next message after the interval, on the gateway that judged the last one, is
    written on the revision it knows, without reading the entry first (the bucket's reads
    counted: only the user's first message reads, and misses)."""
    state, _ = states
    reads = Counter[str]()
    bucket = state.bucket
    read = bucket.get

    async def counted(key: str, *args: object, **kwargs: object) -> object:
        reads[key] += 1
        return await read(key, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(bucket, "get", counted)
    throttle = SharedThrottle(state, "private", interval_s=0.2)
    user = 63_000

    verdicts = [await throttle.check(user)]
    await asyncio.sleep(0.25)
    verdicts.append(await throttle.check(user))

    assert verdicts == [Verdict.ALLOW, Verdict.ALLOW]
    assert reads == {f"throttle.private.{user}": 1}


async def test_a_write_by_another_gateway_is_seen_despite_the_times_kept(
    states: tuple[GatewayState, GatewayState],
) -> None:
    """Gateway A allows a message; after the interval gateway B allows the next one; a third
    at once on A, which still holds the times it wrote, is judged on B's entry: a warning."""
    first, second = (SharedThrottle(state, "private", interval_s=0.3) for state in states)
    user = 64_000

    assert await first.check(user) is Verdict.ALLOW
    await asyncio.sleep(0.35)
    assert await second.check(user) is Verdict.ALLOW
    assert await first.check(user) is Verdict.WARN


async def test_presses_on_two_gateways_at_once_plan_one_reading(
    states: tuple[GatewayState, GatewayState],
) -> None:
    """The asker presses both readings at once, each press on another gateway: one is
    planned, the other finds the question expired."""
    measure = Measure(aggregate=Aggregate.SUM, column="views_count")
    plan = QueryPlan(dataset=Dataset.VIDEOS, measure=measure, interpretation="views")
    question = QuestionAsked(
        channel="telegram", chat_id=62_000, user_id=62_000, language="en", text="Views?"
    )
    answer = QuestionAnswered(
        question=question,
        outcome="ambiguous",
        choices=(Choice(label="one", plan=plan), Choice(label="two", plan=plan)),
    )
    offered, other = (SharedChoices(state) for state in states)
    await offered.offer(answer)

    picks = await asyncio.gather(
        *(
            choices.pick(question.question_id, number, user_id=62_000)
            for choices, number in ((offered, 1), (other, 2))
        )
    )

    assert sorted(type(pick).__name__ for pick in picks) == ["PickRefusal", "QueryPlanned"]
    assert PickRefusal.EXPIRED in picks
