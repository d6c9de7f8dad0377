"""Telegram in: private messages become QuestionAsked and UserSeen on the bus, or get a hint."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tally.contracts.events import QuestionAsked, UserSeen
from tally.contracts.subjects import Subjects
from tally.gateway.app import Gateway
from tally.gateway.domain.texts import EXAMPLES
from tally.testing.telegram import FakeTelegram

Listen = Callable[..., Awaitable[Any]]

pytestmark = pytest.mark.usefixtures("gateway")


def sample(gateway: Gateway, name: str, **labels: str) -> float:
    return gateway.registry.get_sample_value(name, labels) or 0.0


async def test_private_text_is_published_as_question(
    telegram: FakeTelegram, subjects: Subjects, listen: Listen, user_id: int, gateway: Gateway
) -> None:
    """A private text message becomes one QuestionAsked with its chat, user, language and text,
    naming this gateway as the one its answer goes to."""
    questions = await listen(subjects.question_asked, QuestionAsked, user_id)
    telegram.push_message(user_id, user_id, "  How many videos are there?  ", language_code="ru")

    question, _ = await questions.next()

    assert (question.channel, question.chat_id, question.user_id) == ("telegram", user_id, user_id)
    assert question.language == "en"
    assert question.text == "How many videos are there?"
    assert question.reply_to == gateway.context.settings.gateway_instance


async def test_question_carries_the_telegram_receive_trace(
    telegram: FakeTelegram,
    subjects: Subjects,
    listen: Listen,
    user_id: int,
    spans: InMemorySpanExporter,
) -> None:
    """The question's traceparent header continues the trace of a "telegram receive" span."""
    questions = await listen(subjects.question_asked, QuestionAsked, user_id)
    telegram.push_message(user_id, user_id, "Сколько видео?", language_code="en")

    question, headers = await questions.next()

    assert question.language == "ru"
    trace_id = headers["traceparent"].split("-")[1]
    receive = [span for span in spans.get_finished_spans() if span.name == "telegram receive"]
    assert trace_id in {format(span.context.trace_id, "032x") for span in receive}


@pytest.mark.parametrize(
    ("text", "language_code", "expected"),
    [("123?", "ru-RU", "ru"), ("videos?", "ru", "en"), ("123", None, "en")],
)
async def test_language_falls_back_on_the_client_language(
    telegram: FakeTelegram,
    subjects: Subjects,
    listen: Listen,
    user_id: int,
    text: str,
    language_code: str | None,
    expected: str,
) -> None:
    """Without Cyrillic, a Russian client means Russian only when the text has no Latin letters."""
    questions = await listen(subjects.question_asked, QuestionAsked, user_id)
    telegram.push_message(user_id, user_id, text, language_code=language_code)

    question, _ = await questions.next()

    assert question.language == expected


async def test_first_contact_publishes_user_seen_once(
    telegram: FakeTelegram, subjects: Subjects, listen: Listen, user_id: int
) -> None:
    """Two messages from a new user publish one UserSeen, with the user's Telegram profile."""
    seen = await listen(subjects.user_seen, UserSeen, user_id)
    telegram.push_message(user_id, user_id, "How many videos?", username="ann")
    await asyncio.sleep(0.6)
    telegram.push_message(user_id, user_id, "How many likes?", username="ann")

    event, _ = await seen.next()

    assert (event.chat_id, event.username, event.language_code) == (user_id, "ann", "en")
    with pytest.raises(TimeoutError):
        await seen.next(timeout=1)


async def test_a_burst_is_throttled(
    gateway: Gateway,
    telegram: FakeTelegram,
    subjects: Subjects,
    listen: Listen,
    user_id: int,
) -> None:
    """Of four messages at once, the first is published; one "slow down" reply, the rest dropped."""
    questions = await listen(subjects.question_asked, QuestionAsked, user_id)
    throttled_before = sample(gateway, "tally_gateway_throttled_total")
    for number in range(4):
        telegram.push_message(user_id, user_id, f"How many videos? #{number}")

    question, _ = await questions.next()
    [warning] = await telegram.wait_sent(chat_id=user_id)

    assert question.text == "How many videos? #0"
    assert "too fast" in warning.text
    with pytest.raises(TimeoutError):
        await questions.next(timeout=1)
    await telegram.assert_nothing_sent(chat_id=user_id, within=0.1)
    assert sample(gateway, "tally_gateway_throttled_total") - throttled_before == 3


@pytest.mark.parametrize(("language_code", "language"), [("en", "en"), ("ru", "ru")])
async def test_start_replies_with_examples(
    telegram: FakeTelegram, user_id: int, language_code: str, language: str
) -> None:
    """/start explains Tally in the client's language, with the four example questions."""
    telegram.push_message(user_id, user_id, "/start", language_code=language_code)

    [reply] = await telegram.wait_sent(chat_id=user_id)

    assert reply.parse_mode == "HTML"
    assert "Tally" in reply.text
    assert all(example in reply.text for example in EXAMPLES[language])  # type: ignore[index]


async def test_help_is_a_command_not_a_question(
    gateway: Gateway, telegram: FakeTelegram, subjects: Subjects, listen: Listen, user_id: int
) -> None:
    """/help replies with examples and publishes nothing."""
    questions = await listen(subjects.question_asked, QuestionAsked, user_id)
    commands_before = sample(gateway, "tally_gateway_messages_total", kind="command")
    telegram.push_message(user_id, user_id, "/help")

    [reply] = await telegram.wait_sent(chat_id=user_id)

    assert EXAMPLES["en"][0] in reply.text
    assert sample(gateway, "tally_gateway_messages_total", kind="command") == commands_before + 1
    with pytest.raises(TimeoutError):
        await questions.next(timeout=0.5)


async def test_non_text_message_gets_a_hint(telegram: FakeTelegram, user_id: int) -> None:
    """A sticker gets a one-line hint that only text questions are understood."""
    telegram.push_message(user_id, user_id, None, sticker=True)

    [reply] = await telegram.wait_sent(chat_id=user_id)

    assert "text questions" in reply.text
    assert "\n" not in reply.text


async def test_too_long_question_gets_a_hint(
    telegram: FakeTelegram, subjects: Subjects, listen: Listen, user_id: int
) -> None:
    """A text over 2000 characters is not published; the user is told to shorten it."""
    questions = await listen(subjects.question_asked, QuestionAsked, user_id)
    telegram.push_message(user_id, user_id, "why " * 501)

    [reply] = await telegram.wait_sent(chat_id=user_id)

    assert "too long" in reply.text
    assert questions.queue.empty()


async def test_unknown_command_gets_a_hint(telegram: FakeTelegram, user_id: int) -> None:
    """A command other than /start and /help points at /help."""
    telegram.push_message(user_id, user_id, "/stats")

    [reply] = await telegram.wait_sent(chat_id=user_id)

    assert "/help" in reply.text


async def test_group_messages_are_ignored(
    telegram: FakeTelegram, subjects: Subjects, listen: Listen, user_id: int
) -> None:
    """A message in a group publishes nothing and gets no reply."""
    group = -user_id
    questions = await listen(subjects.question_asked, QuestionAsked, user_id)
    seen = await listen(subjects.user_seen, UserSeen, user_id)
    telegram.push_message(group, user_id, "How many videos?", chat_type="group")

    await telegram.assert_nothing_sent(chat_id=group, within=0.7)
    assert questions.queue.empty()
    assert seen.queue.empty()
