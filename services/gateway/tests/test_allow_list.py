"""ALLOWED_CHAT_IDS: updates from other chats (messages, button presses, chat events) reach
no handler: no reply, nothing published, only a count in
``tally_gateway_ignored_updates_total{reason}``. The admins' chats stay allowed."""

import asyncio
import itertools
from uuid import uuid4

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from tally.contracts.subjects import Subjects
from tally.gateway.app import Gateway
from tally.gateway.config import GatewaySettings
from tally.gateway.telegram.keyboards import FeedbackButton
from tally.testing.telegram import DEFAULT_TOKEN, FakeTelegram

ALLOWED_USER = 96_001
ALLOWED_GROUP = -100_960_001
ADMIN = 96_002
ADMIN_GROUP = -100_960_002
_strangers = itertools.count(96_100)
_other_groups = itertools.count(-100_961_001, -1)

pytestmark = [pytest.mark.usefixtures("streams", "gateway"), pytest.mark.timeout(60)]


@pytest.fixture(scope="module")
def gateway_settings(gateway_settings: GatewaySettings) -> GatewaySettings:
    """One allowed private chat and one allowed group; an admin and the admins' group."""
    return gateway_settings.model_copy(
        update={
            "allowed_chat_ids": [ALLOWED_USER, ALLOWED_GROUP],
            "admin_user_ids": [ADMIN],
            "admin_chat_ids": [ADMIN_GROUP],
        }
    )


@pytest.fixture
def stranger() -> int:
    """A user id (and private chat id) outside the allow-list no other test uses."""
    return next(_strangers)


@pytest.fixture
def other_group() -> int:
    """A group outside the allow-list no other test uses."""
    return next(_other_groups)


class Tap:
    """Every message on one subject pattern, kept in arrival order."""

    def __init__(self) -> None:
        self.subjects: list[str] = []
        self.arrived = asyncio.Event()

    async def on_message(self, message: Msg) -> None:
        self.subjects.append(message.subject)
        self.arrived.set()

    async def wait(self, timeout: float = 5) -> None:  # noqa: ASYNC109
        await asyncio.wait_for(self.arrived.wait(), timeout)


async def subscribe(nc: Client, pattern: str) -> Tap:
    found = Tap()
    await nc.subscribe(pattern, cb=found.on_message)
    await nc.flush()
    return found


def ignored(gateway: Gateway, reason: str = "chat_not_allowed") -> float:
    value = gateway.registry.get_sample_value(
        "tally_gateway_ignored_updates_total", {"reason": reason}
    )
    return value or 0.0


def test_allowed_chats_include_the_admins() -> None:
    """The allow-list is ALLOWED_CHAT_IDS with ADMIN_CHAT_IDS and the admins' private chats;
    without ALLOWED_CHAT_IDS every chat is allowed (None)."""
    settings = GatewaySettings(
        bot_token=DEFAULT_TOKEN,
        allowed_chat_ids="-100, 7",  # type: ignore[arg-type]
        admin_chat_ids=[-200],
        admin_user_ids=[9],
    )

    assert settings.allowed_chats() == frozenset({-100, 7, -200, 9})
    assert GatewaySettings(bot_token=DEFAULT_TOKEN, admin_user_ids=[9]).allowed_chats() is None


async def test_a_stranger_in_private_gets_nothing(
    gateway: Gateway, telegram: FakeTelegram, nc: Client, subjects: Subjects, stranger: int
) -> None:
    """A question and /start from a private chat not allowed: no reply, no question and no
    first-contact event published; both counted as ignored."""
    users = await subscribe(nc, f"{subjects.prefix}.users.>")
    questions = await subscribe(nc, subjects.question_asked)
    before = ignored(gateway)

    telegram.push_message(stranger, stranger, "How many videos are there?")
    telegram.push_message(stranger, stranger, "/start")

    await telegram.assert_nothing_sent(chat_id=stranger, within=1.0)
    assert questions.subjects == []
    assert users.subjects == []
    assert ignored(gateway) - before == 2


@pytest.mark.parametrize("user", [ALLOWED_USER, ADMIN], ids=["allowed", "admin"])
async def test_allowed_and_admin_private_chats_are_served(
    telegram: FakeTelegram, user: int
) -> None:
    """The allowed private chat, and an admin's though it is not listed, get their replies."""
    telegram.push_message(user, user, "/start")

    [reply] = await telegram.wait_sent(chat_id=user)

    assert "Tally" in reply.text


async def test_a_group_not_allowed_is_neither_captured_nor_answered(
    gateway: Gateway,
    telegram: FakeTelegram,
    nc: Client,
    subjects: Subjects,
    other_group: int,
) -> None:
    """In a group not allowed, messages, a reaction and a join publish no chat event, and
    /ask asks nothing; the same in the allowed group is captured."""
    outside = await subscribe(nc, f"{subjects.prefix}.chats.{other_group}.>")
    inside = await subscribe(nc, f"{subjects.prefix}.chats.{ALLOWED_GROUP}.>")
    questions = await subscribe(nc, subjects.question_asked)
    before = ignored(gateway)

    telegram.push_group_message(other_group, 96_200, "hello")
    telegram.push_group_message(other_group, 96_200, "/ask how many messages today?")
    telegram.push_reaction(other_group, 96_200, 1, new=["👍"])
    telegram.push_member(other_group, 96_201, "join")
    telegram.push_group_message(ALLOWED_GROUP, 96_200, "hello")
    await inside.wait()
    await telegram.assert_nothing_sent(chat_id=other_group, within=0.5)

    assert outside.subjects == []
    assert questions.subjects == []
    assert ignored(gateway) - before == 4


async def test_a_button_press_from_a_chat_not_allowed_is_not_answered(
    gateway: Gateway, telegram: FakeTelegram, nc: Client, subjects: Subjects, stranger: int
) -> None:
    """A 👍 pressed in a chat not allowed is not answered and publishes no feedback; the same
    press in the allowed chat is answered."""
    feedback = await subscribe(nc, subjects.feedback)
    data = FeedbackButton(verdict="up", question=uuid4()).pack()
    before = ignored(gateway)

    refused = telegram.push_callback(stranger, stranger, data)
    accepted = telegram.push_callback(ALLOWED_USER, ALLOWED_USER, data)
    await telegram.wait_press(accepted)
    await feedback.wait()
    await asyncio.sleep(0.3)

    with pytest.raises(TimeoutError):
        await telegram.wait_press(refused, timeout=0.2)
    assert len(feedback.subjects) == 1
    assert ignored(gateway) - before == 1
