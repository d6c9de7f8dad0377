"""A question lost on the way (an nl2sql or executor replica killed with it) is asked again
under the same id, and the asker gets exactly one answer even when two come back."""

import asyncio
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


class Holder:
    """Answers nothing: keeps each delivery of each question for the test to answer, on the
    subject an executor answers on (the asking gateway's ``reply_to``)."""

    def __init__(self, nc: Client, subjects: Subjects) -> None:
        self.nc, self.subjects = nc, subjects
        self.deliveries: asyncio.Queue[QuestionAsked] = asyncio.Queue()

    async def on_question(self, message: Msg) -> None:
        await self.deliveries.put(QuestionAsked.model_validate_json(message.data))

    async def next(self, user_id: int) -> QuestionAsked:
        """The next delivery of a question of ``user_id`` (within 5 s)."""
        while True:
            question = await asyncio.wait_for(self.deliveries.get(), 5)
            if question.user_id == user_id:
                return question

    async def answer(self, question: QuestionAsked, value: int, *, times: int = 1) -> None:
        """Publish ``times`` answers to ``question`` back to back, unawaited in between, so
        the gateway's concurrent reply workers (REPLY_CONCURRENCY) take them at once."""
        answer = QuestionAnswered(question=question, outcome="answered", value=value)
        subject = self.subjects.answer("telegram", str(question.question_id), question.reply_to)
        assert question.reply_to is not None
        for _ in range(times):
            await self.nc.publish(subject, answer.model_dump_json().encode())
        await self.nc.flush()


@pytest.fixture
async def holder(nc: Client, subjects: Subjects) -> AsyncIterator[Holder]:
    stand_in = Holder(nc, subjects)
    subscription = await nc.subscribe(subjects.question_asked, cb=stand_in.on_question)
    await nc.flush()
    yield stand_in
    await subscription.unsubscribe()


async def test_concurrent_answers_to_one_question_get_one_reply(
    telegram: FakeTelegram, holder: Holder, user_id: int
) -> None:
    """Twenty answers to one question id at once on the gateway's own answer subject (as
    two executor replicas racing, many times over): one sendMessage."""
    telegram.push_message(user_id, user_id, "How many videos are in the system?")
    question = await holder.next(user_id)
    await holder.answer(question, 42, times=20)
    [reply] = await telegram.wait_sent(chat_id=user_id, timeout=5)
    assert "42" in reply.text
    await telegram.assert_nothing_sent(within=1.0, chat_id=user_id)


async def test_an_answer_after_the_reply_is_dropped(
    telegram: FakeTelegram, holder: Holder, user_id: int
) -> None:
    """Answered before the re-ask, then a second answer (a slow replica) 1 s later, past
    when the re-ask would have come: one reply, the first; the question is not asked again."""
    telegram.push_message(user_id, user_id, "How many videos are in the system?")
    question = await holder.next(user_id)
    await holder.answer(question, 42)
    [reply] = await telegram.wait_sent(chat_id=user_id, timeout=5)
    await asyncio.sleep(1.0)
    await holder.answer(question, 43)
    await telegram.assert_nothing_sent(within=1.0, chat_id=user_id)
    assert "42" in reply.text and holder.deliveries.empty()


async def test_a_late_answer_and_the_answer_to_its_reask_get_one_reply(
    telegram: FakeTelegram, holder: Holder, user_id: int
) -> None:
    """The first delivery is answered only after the gateway asked again, then the re-ask
    is answered too (and both once more, concurrently): one reply, the first to arrive."""
    telegram.push_message(user_id, user_id, "How many videos are in the system?")
    first = await holder.next(user_id)
    again = await holder.next(user_id)
    assert again.question_id == first.question_id
    await holder.answer(first, 42)
    await holder.answer(again, 43)
    [reply] = await telegram.wait_sent(chat_id=user_id, timeout=5)
    assert "42" in reply.text
    await asyncio.gather(holder.answer(first, 42, times=5), holder.answer(again, 43, times=5))
    await telegram.assert_nothing_sent(within=1.0, chat_id=user_id)


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
