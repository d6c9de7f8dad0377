"""A question lost on the way (an nl2sql or executor replica killed with it) is asked again
under the same id, and the asker gets exactly one answer even when two come back."""

from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from tally.contracts.events import QuestionAnswered, QuestionAsked
from tally.contracts.subjects import Subjects
from tally.gateway.config import GatewaySettings
from tally.gateway.domain.reasks import Reasks
from tally.testing.telegram import FakeTelegram

pytestmark = pytest.mark.usefixtures("streams", "gateway")


@pytest.fixture(scope="module")
def gateway_settings(gateway_settings: GatewaySettings) -> GatewaySettings:
    return gateway_settings.model_copy(update={"reask_after_s": 0.3})


class Nl2sqlStandIn:
    """Drops the first ``drop`` deliveries of each question, then answers each delivery
    (``twice``: answers the kept delivery two times, as a slow replica and a fast one would)."""

    def __init__(self, nc: Client, subjects: Subjects, *, drop: int, twice: bool) -> None:
        self.nc, self.subjects, self.drop, self.twice = nc, subjects, drop, twice
        self.seen: dict[str, int] = {}

    async def on_question(self, message: Msg) -> None:
        question = QuestionAsked.model_validate_json(message.data)
        key = str(question.question_id)
        self.seen[key] = self.seen.get(key, 0) + 1
        if self.seen[key] <= self.drop:
            return
        answer = QuestionAnswered(question=question, outcome="answered", value=42)
        subject = self.subjects.answer("telegram", key)
        for _ in range(2 if self.twice else 1):
            await self.nc.publish(subject, answer.model_dump_json().encode())


async def _stand_in(
    nc: Client, subjects: Subjects, *, drop: int, twice: bool
) -> AsyncIterator[Nl2sqlStandIn]:
    stand_in = Nl2sqlStandIn(nc, subjects, drop=drop, twice=twice)
    subscription = await nc.subscribe(subjects.question_asked, cb=stand_in.on_question)
    await nc.flush()
    yield stand_in
    await subscription.unsubscribe()


@pytest.fixture
async def losing(nc: Client, subjects: Subjects) -> AsyncIterator[Nl2sqlStandIn]:
    async for stand_in in _stand_in(nc, subjects, drop=1, twice=False):
        yield stand_in


@pytest.fixture
async def doubling(nc: Client, subjects: Subjects) -> AsyncIterator[Nl2sqlStandIn]:
    async for stand_in in _stand_in(nc, subjects, drop=0, twice=True):
        yield stand_in


async def test_a_lost_question_is_asked_again_and_answered_once(
    telegram: FakeTelegram, losing: Nl2sqlStandIn, user_id: int
) -> None:
    """The first delivery is lost; the gateway asks again after 0.3 s; one reply."""
    telegram.push_message(user_id, user_id, "How many videos are in the system?")
    [reply] = await telegram.wait_sent(chat_id=user_id, timeout=5)
    assert "42" in reply.text
    assert list(losing.seen.values()) == [2]
    await telegram.assert_nothing_sent(within=1.0, chat_id=user_id)


async def test_a_second_answer_to_one_question_is_dropped(
    telegram: FakeTelegram, doubling: Nl2sqlStandIn, user_id: int
) -> None:
    """Two answers to one question id (a slow replica and a re-ask): one reply."""
    telegram.push_message(user_id, user_id, "How many videos are in the system?")
    [reply] = await telegram.wait_sent(chat_id=user_id, timeout=5)
    assert "42" in reply.text
    await telegram.assert_nothing_sent(within=1.0, chat_id=user_id)
    assert list(doubling.seen.values()) == [1]


def test_the_schedule_doubles_and_gives_up() -> None:
    """Asked at 0: again at 2, 6 and 14 s, then dropped at 15 s; an answer stops it."""
    reasks = Reasks(first_after_s=2.0, timeout_s=15.0)
    question = QuestionAsked(channel="telegram", chat_id=1, user_id=1, language="en", text="q")
    reasks.asked(question, 0.0)
    times = [t for t in range(16) if reasks.due(float(t))]
    assert times == [2, 6, 14]
    other = QuestionAsked(channel="telegram", chat_id=1, user_id=1, language="en", text="q")
    reasks.asked(other, 0.0)
    assert reasks.first_answer(str(other.question_id)) is True
    assert reasks.due(3.0) == [] and reasks.first_answer(str(other.question_id)) is False


def test_zero_turns_it_off() -> None:
    reasks = Reasks(first_after_s=0)
    reasks.asked(QuestionAsked(channel="cli", chat_id=1, user_id=1, language="en", text="q"), 0)
    assert reasks.due(100.0) == []
