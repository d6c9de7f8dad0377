"""One member flooding the bot does not starve the others.

200 messages from one user in a burst, in a private chat and in a group, with five other
users' questions sent in between: every other user gets their answer, and the flooder gets at
most one question handled per throttle interval (THROTTLE_INTERVAL_S in private chats,
GROUP_THROTTLE_INTERVAL_S in groups, whose replies Telegram paces at 20 a minute). A
stand-in for nl2sql and the executor answers each question on the bus with the asker's id.
"""

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from tally.contracts.events import QuestionAnswered, QuestionAsked
from tally.contracts.subjects import Subjects
from tally.gateway.app import Gateway
from tally.gateway.config import GatewaySettings
from tally.testing.telegram import FakeTelegram, SentMessage
from tally.testing.waiting import until

FLOOD = 200
OTHERS = 5
PRIVATE_INTERVAL_S = 0.5
GROUP_INTERVAL_S = GatewaySettings.model_fields["group_throttle_interval_s"].default
"""As shipped."""

pytestmark = [pytest.mark.usefixtures("streams", "gateway"), pytest.mark.timeout(90)]


@pytest.fixture(scope="module")
def gateway_settings(gateway_settings: GatewaySettings) -> GatewaySettings:
    """Throttling as shipped, in private chats and in groups."""
    return gateway_settings.model_copy(
        update={
            "throttle_interval_s": PRIVATE_INTERVAL_S,
            "group_throttle_interval_s": GROUP_INTERVAL_S,
        }
    )


@dataclass
class Responder:
    """Answers every question at once with the asker's id (``asked by <id>``) and counts the
    questions of each user."""

    nc: Client
    subjects: Subjects
    asked: dict[int, int] = field(default_factory=dict)

    async def on_question(self, message: Msg) -> None:
        question = QuestionAsked.model_validate_json(message.data)
        self.asked[question.user_id] = self.asked.get(question.user_id, 0) + 1
        answer = QuestionAnswered(
            question=question,
            outcome="answered",
            value=1,
            interpretation=f"asked by {question.user_id}",
        )
        subject = self.subjects.answer("telegram", str(question.question_id))
        await self.nc.publish(subject, answer.model_dump_json().encode())


@pytest.fixture
async def responder(nc: Client, subjects: Subjects) -> AsyncIterator[Responder]:
    stand_in = Responder(nc, subjects)
    subscription = await nc.subscribe(subjects.question_asked, cb=stand_in.on_question)
    await nc.flush()
    yield stand_in
    await subscription.unsubscribe()


def throttled(gateway: Gateway) -> float:
    return gateway.registry.get_sample_value("tally_gateway_throttled_total") or 0.0


def answers_to(telegram: FakeTelegram, user: int) -> list[SentMessage]:
    return [message for message in telegram.sent if f"asked by {user}" in message.text]


def handled_at_most(elapsed_s: float, interval_s: float) -> int:
    """The most messages of one sender the throttle lets through in ``elapsed_s`` seconds."""
    return 1 + int(elapsed_s / interval_s)


async def until_all_answered(
    telegram: FakeTelegram, chat_id: int, askers: list[int], timeout_s: float
) -> list[SentMessage]:
    """The messages sent to ``chat_id`` until each of ``askers`` got an answer; raises
    AssertionError naming those still waiting after ``timeout_s`` seconds."""
    waiting, sent = {f"asked by {user}" for user in askers}, []
    deadline = time.monotonic() + timeout_s
    while waiting:
        left = deadline - time.monotonic()
        try:
            [message] = await telegram.wait_sent(chat_id=chat_id, timeout=max(left, 0.01))
        except TimeoutError:
            raise AssertionError(f"still waiting after {timeout_s} s: {sorted(waiting)}") from None
        sent.append(message)
        waiting = {marker for marker in waiting if marker not in message.text}
    return sent


async def test_a_private_flood_does_not_starve_the_others(
    gateway: Gateway, telegram: FakeTelegram, responder: Responder
) -> None:
    """200 private messages of one user in a burst: the five others asking meanwhile are all
    answered within seconds; the flooder's questions pass one per THROTTLE_INTERVAL_S and the
    rest are dropped (counted), with at most one "slow down" per interval."""
    flooder, others = 97_000, [97_001 + n for n in range(OTHERS)]
    before, started = throttled(gateway), time.monotonic()
    for number in range(FLOOD):
        telegram.push_message(flooder, flooder, f"How many videos? #{number}")
        if number % (FLOOD // OTHERS) == FLOOD // OTHERS // 2:
            other = others[number // (FLOOD // OTHERS)]
            telegram.push_message(other, other, "How many likes?")

    for other in others:
        await until_all_answered(telegram, other, [other], timeout_s=10)
    await asyncio.sleep(PRIVATE_INTERVAL_S)
    elapsed = time.monotonic() - started

    passed = responder.asked.get(flooder, 0)
    assert 1 <= passed <= handled_at_most(elapsed, PRIVATE_INTERVAL_S)
    assert throttled(gateway) - before == FLOOD - passed
    await until(lambda: len(answers_to(telegram, flooder)) == passed)
    to_flooder = [message.text for message in telegram.sent if message.chat_id == flooder]
    slow_downs = [text for text in to_flooder if "too fast" in text]
    assert 1 <= len(slow_downs) <= handled_at_most(elapsed, PRIVATE_INTERVAL_S)
    assert len(to_flooder) == passed + len(slow_downs)


async def test_a_group_flood_does_not_starve_the_group(
    gateway: Gateway, telegram: FakeTelegram, responder: Responder
) -> None:
    """200 "/ask" of one member in a burst in a group: the five other members asking
    meanwhile are all answered, though Telegram lets the bot send one message a second to
    the group; the flooder's questions pass one per GROUP_THROTTLE_INTERVAL_S, the rest are
    dropped silently (counted), and the group is not flooded with answers."""
    group, flooder = -100_970_001, 97_100
    others = [97_101 + n for n in range(OTHERS)]
    before, started = throttled(gateway), time.monotonic()
    for number in range(FLOOD):
        telegram.push_group_message(group, flooder, f"/ask how many messages today? #{number}")
        if number % (FLOOD // OTHERS) == FLOOD // OTHERS // 2:
            other = others[number // (FLOOD // OTHERS)]
            telegram.push_group_message(group, other, "/ask how many messages this week?")

    sent = await until_all_answered(telegram, group, others, timeout_s=30)
    elapsed = time.monotonic() - started

    passed = responder.asked.get(flooder, 0)
    assert 1 <= passed <= handled_at_most(elapsed, GROUP_INTERVAL_S)
    assert throttled(gateway) - before == FLOOD - passed
    assert len(sent) <= OTHERS + passed
    assert not [message for message in sent if "too fast" in message.text]
