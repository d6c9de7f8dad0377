"""The gateway's Dispatcher and NATS subscribers without any server: aiogram updates fed to the
Dispatcher (``feed_update``) with a Bot whose session answers from memory, and FastStream's
in-memory ``TestNatsBroker`` in place of NATS."""

import asyncio
import itertools
import json
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from unittest.mock import patch

import anyio.to_thread
import pytest
import structlog
from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.filters import Command
from aiogram.methods import AnswerCallbackQuery, GetMe, SendMessage, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Update
from faststream.nats import NatsBroker, TestNatsBroker
from prometheus_client import CollectorRegistry

from tally.contracts.events import QuestionAnswered, QuestionAsked, UserSeen
from tally.contracts.render import EXAMPLES
from tally.contracts.subjects import Subjects
from tally.gateway.app import create_broker_for
from tally.gateway.config import GatewaySettings
from tally.gateway.context import GatewayContext
from tally.gateway.domain.alerts import SILENCE_USAGE
from tally.gateway.domain.texts import say
from tally.gateway.handlers import provide_context
from tally.gateway.metrics import GatewayMetrics
from tally.gateway.telegram.delivery import SendMessageUnread
from tally.gateway.telegram.dispatcher import create_dispatcher, release_routers
from tally.gateway.telegram.keyboards import AlertButton
from tally.testing.kv import MemoryKeyValue
from tally.testing.telegram import DEFAULT_TOKEN

BOT_ID = 123456
ADMIN = 4242
SUBJECTS = Subjects("unit")
_ids = itertools.count(1)


class RecordingSession(BaseSession):
    """A Bot API session that records each request and answers it from memory: ``getMe``
    with the bot, ``sendMessage`` with the message sent, anything else with ``true``. Answers
    go through aiogram's own response check, so they are typed as from Telegram."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[TelegramMethod[Any]] = []

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109  # aiogram's BaseSession signature
    ) -> TelegramType:
        self.requests.append(method)
        body = json.dumps({"ok": True, "result": _result(method)})
        return self.check_response(bot, method, 200, body).result  # type: ignore[return-value]

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109  # aiogram's BaseSession signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        raise NotImplementedError("no files in these tests")
        yield b""  # an async generator, as the base class declares

    async def close(self) -> None:
        return None

    def sent(self) -> list[SendMessage]:
        """The ``sendMessage`` requests, in order."""
        return [method for method in self.requests if isinstance(method, SendMessage)]

    def answers(self) -> list[AnswerCallbackQuery]:
        """The ``answerCallbackQuery`` requests, in order."""
        return [method for method in self.requests if isinstance(method, AnswerCallbackQuery)]


def _result(method: TelegramMethod[Any]) -> object:
    if isinstance(method, GetMe):
        return {"id": BOT_ID, "is_bot": True, "first_name": "Tally", "username": "tally_bot"}
    if isinstance(method, SendMessage):
        chat_type = "private" if int(method.chat_id) > 0 else "supergroup"
        return {
            "message_id": next(_ids),
            "date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": method.chat_id, "type": chat_type},
            "text": method.text,
        }
    return True


@dataclass
class Harness:
    """A gateway's Dispatcher, its Bot's session, its metrics' registry and what the
    in-memory bus carried (``published[subject]``: the decoded bodies)."""

    dispatcher: Dispatcher
    bot: Bot
    session: RecordingSession
    registry: CollectorRegistry
    broker: NatsBroker
    published: dict[str, list[dict[str, Any]]]

    async def feed(self, update: dict[str, Any]) -> None:
        await self.dispatcher.feed_update(self.bot, Update.model_validate(update))

    def sample(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


def _settings() -> GatewaySettings:
    return GatewaySettings(
        bot_token=DEFAULT_TOKEN,
        subject_prefix=SUBJECTS.prefix,
        admin_user_ids=[ADMIN],
        throttle_interval_s=0,
        group_throttle_interval_s=0,
    )


def _harness(broker: NatsBroker) -> tuple[Harness, GatewayContext]:
    settings = _settings()
    session = RecordingSession()
    bot = Bot(DEFAULT_TOKEN, session=session)
    registry = CollectorRegistry()
    ctx = GatewayContext.create(
        settings, subjects=SUBJECTS, bot=bot, broker=broker, metrics=GatewayMetrics(registry)
    )
    ctx.state.use(MemoryKeyValue())
    provide_context(broker, ctx)
    published: dict[str, list[dict[str, Any]]] = {}
    harness = Harness(create_dispatcher(ctx), bot, session, registry, broker, published)
    return harness, ctx


def _record(broker: NatsBroker, subject: str, published: dict[str, list[dict[str, Any]]]) -> None:
    async def record(body: dict[str, Any]) -> None:
        published.setdefault(subject, []).append(body)

    broker.subscriber(subject)(record)


@pytest.fixture
async def gateway() -> AsyncIterator[Harness]:
    """A gateway on an in-memory bus that records what is published on ``questions.asked``
    and ``users.seen``."""
    broker = create_broker_for(_settings(), SUBJECTS)
    harness, _ = _harness(broker)
    for subject in (SUBJECTS.question_asked, SUBJECTS.user_seen):
        _record(broker, subject, harness.published)
    async with TestNatsBroker(broker):
        yield harness
    release_routers(harness.dispatcher)


@pytest.fixture
async def offline() -> AsyncIterator[Harness]:
    """A gateway whose broker was never started: every publish raises, as a handler's call
    to a collaborator may."""
    harness, _ = _harness(create_broker_for(_settings(), SUBJECTS))
    yield harness
    release_routers(harness.dispatcher)


def _message(text: str, *, user_id: int, chat_id: int | None = None) -> dict[str, Any]:
    chat = chat_id if chat_id is not None else user_id
    return {
        "update_id": next(_ids),
        "message": {
            "message_id": next(_ids),
            "date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": chat, "type": "private" if chat > 0 else "supergroup", "title": "g"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Ann", "language_code": "en"},
            "text": text,
        },
    }


def _press(data: str, *, user_id: int) -> dict[str, Any]:
    return {
        "update_id": next(_ids),
        "callback_query": {
            "id": str(next(_ids)),
            "chat_instance": "ci",
            "from": {"id": user_id, "is_bot": False, "first_name": "Ann"},
            "data": data,
        },
    }


async def test_a_private_question_is_published_and_its_asker_seen(gateway: Harness) -> None:
    """A private text becomes one QuestionAsked on ``questions.asked`` (trimmed, with chat and
    user), the user's first message one UserSeen; nothing is sent back yet."""
    await gateway.feed(_message("  How many videos are there?  ", user_id=501))

    [asked] = [QuestionAsked.model_validate(b) for b in gateway.published[SUBJECTS.question_asked]]
    [seen] = [UserSeen.model_validate(b) for b in gateway.published[SUBJECTS.user_seen]]
    assert (asked.chat_id, asked.user_id, asked.text) == (501, 501, "How many videos are there?")
    assert (seen.user_id, seen.first_name) == (501, "Ann")
    assert gateway.session.sent() == []
    assert gateway.sample("tally_gateway_messages_total", kind="question") == 1


class CountingExecutor(ThreadPoolExecutor):
    """A thread pool that counts the calls handed to it."""

    submitted = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1
        return super().submit(fn, *args, **kwargs)


async def test_updates_and_answers_are_handled_without_worker_threads(gateway: Harness) -> None:
    """A private question, a command and a group message pass every router's filters, and an
    answer on the bus gets its handler's GatewayContext, in the event loop: nothing is handed
    to a worker thread (aiogram runs a filter that is not a coroutine function in one,
    fast_depends a FastStream ``Context``; each hop cost about 0.1 ms of CPU, BENCHMARKS.md
    "The gateway's CPU per question")."""
    executor = CountingExecutor()
    asyncio.get_running_loop().set_default_executor(executor)
    question = QuestionAsked(channel="telegram", chat_id=508, user_id=508, language="en", text="?")
    answer = QuestionAnswered(question=question, outcome="answered", value=7)

    with patch("anyio.to_thread.run_sync", wraps=anyio.to_thread.run_sync) as anyio_threads:
        await gateway.feed(_message("How many videos?", user_id=505))
        await gateway.feed(_message("/help", user_id=506))
        await gateway.feed(_message("hello all", user_id=507, chat_id=-100507))
        await gateway.broker.publish(answer, SUBJECTS.answer("telegram", str(question.question_id)))

    assert SUBJECTS.question_asked in gateway.published
    assert [sent.chat_id for sent in gateway.session.sent()] == [506, 508]
    assert executor.submitted == 0
    assert anyio_threads.call_count == 0


async def test_a_question_meets_no_command_filter(gateway: Harness) -> None:
    """A private question skips the routers whose handlers all take commands with one check
    each (MAYBE_COMMAND), so no ``Command`` filter parses it; a command still meets them."""
    with patch.object(Command, "__call__", autospec=True, side_effect=Command.__call__) as seen:
        await gateway.feed(_message("How many videos?", user_id=509))
        questions = seen.call_count
        await gateway.feed(_message("/help", user_id=510))

    assert SUBJECTS.question_asked in gateway.published
    assert questions == 0
    assert seen.call_count > 0
    assert [sent.chat_id for sent in gateway.session.sent()] == [510]


async def test_a_reply_is_sent_without_reading_back_the_message(gateway: Harness) -> None:
    """Replies go as SendMessageUnread: the same sendMessage, whose result (the Message sent)
    is not validated into an aiogram ``Message`` (about 40 µs of CPU per reply)."""
    await gateway.feed(_message("/help", user_id=511))

    [request] = gateway.session.sent()
    assert type(request) is SendMessageUnread
    assert (request.chat_id, request.parse_mode) == (511, "HTML")
    assert gateway.sample("tally_gateway_replies_total", outcome="sent") == 1


async def test_help_answers_with_examples_and_is_counted(gateway: Harness) -> None:
    """/help is answered in the same chat, as HTML, with the example questions; the command is
    counted by name and nothing is asked on the bus."""
    await gateway.feed(_message("/help", user_id=502))

    [reply] = gateway.session.sent()
    assert reply.chat_id == 502
    assert reply.parse_mode == "HTML"
    assert EXAMPLES["en"][0] in reply.text
    assert gateway.sample("tally_commands_total", command="help") == 1
    assert SUBJECTS.question_asked not in gateway.published


async def test_an_answer_on_the_bus_reaches_the_chat_with_feedback_buttons(
    gateway: Harness,
) -> None:
    """``answers.telegram.<id>`` is delivered by the gateway's subscriber: the rendered answer
    to the asker's chat, 👍/👎 under it, remembered for /sql."""
    question = QuestionAsked(
        channel="telegram", chat_id=503, user_id=503, language="en", text="How many?"
    )
    answer = QuestionAnswered(question=question, outcome="answered", value=7, sql="SELECT 7")

    await gateway.broker.publish(answer, SUBJECTS.answer("telegram", str(question.question_id)))
    await gateway.feed(_message("/sql", user_id=503))

    shown, explained = gateway.session.sent()
    assert shown.chat_id == 503 and "7" in shown.text
    assert shown.reply_markup is not None
    assert [button.text for button in shown.reply_markup.inline_keyboard[0]] == ["👍", "👎"]  # type: ignore[union-attr]
    assert "SELECT 7" in explained.text


async def test_a_usage_error_is_shown_by_the_errors_router(gateway: Harness) -> None:
    """An admin's /silence without a duration gets the command's usage (a UserFacingError
    raised by the handler), counted as a user-facing handler error."""
    await gateway.feed(_message("/silence alertname=IngestLag", user_id=ADMIN))

    [reply] = gateway.session.sent()
    assert reply.text == SILENCE_USAGE
    assert (
        gateway.sample("tally_gateway_handler_errors_total", update="message", kind="user_facing")
        == 1
    )


async def test_a_failing_handler_says_so_without_a_traceback(offline: Harness) -> None:
    """A question that cannot be published: the asker gets a sentence to act on (try again,
    tell the admins), no exception text; the failure is logged with its exception and
    counted."""
    with structlog.testing.capture_logs() as logs:
        await offline.feed(_message("How many videos?", user_id=504))

    [reply] = offline.session.sent()
    assert (reply.chat_id, reply.text) == (504, say("handler_failed", "en"))
    [failed] = [log for log in logs if log["event"] == "telegram handler failed"]
    assert failed["log_level"] == "error"
    assert isinstance(failed["exc_info"], Exception)
    assert str(failed["exc_info"]) not in reply.text
    errors = offline.sample(
        "tally_gateway_handler_errors_total", update="message", kind="unexpected"
    )
    assert errors == 1


async def test_a_failing_button_press_is_answered_in_a_popup(offline: Harness) -> None:
    """An admin's alert button press whose audit cannot be published is answered with the
    sentence in a popup, so the client stops waiting; nothing is sent."""
    data = AlertButton(action="ack", group="0123456789abcdef").pack()
    with structlog.testing.capture_logs():
        await offline.feed(_press(data, user_id=ADMIN))

    [answer] = offline.session.answers()
    assert (answer.text, answer.show_alert) == (say("handler_failed", "en"), True)
    assert offline.session.sent() == []
    errors = offline.sample(
        "tally_gateway_handler_errors_total", update="callback_query", kind="unexpected"
    )
    assert errors == 1


async def test_a_group_message_that_fails_stays_silent(offline: Harness) -> None:
    """A group message not addressed to the bot whose capture fails gets no reply in the
    group (the failure is only logged and counted)."""
    with structlog.testing.capture_logs():
        await offline.feed(_message("hello all", user_id=505, chat_id=-1005))

    assert offline.session.sent() == []
    errors = offline.sample(
        "tally_gateway_handler_errors_total", update="message", kind="unexpected"
    )
    assert errors == 1
