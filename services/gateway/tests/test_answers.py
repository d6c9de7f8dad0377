"""Telegram out: answers reach the asker's chat (alerts: test_alerts_telegram.py)."""

import asyncio

import pytest
from nats.aio.client import Client
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from tally.contracts.events import (
    AnswerFeedback,
    DeadLetter,
    QuestionAnswered,
    QuestionAsked,
)
from tally.contracts.subjects import Subjects
from tally.gateway.app import Gateway
from tally.testing.telegram import FakeTelegram
from tally.testing.waiting import until

pytestmark = pytest.mark.usefixtures("gateway")


def asked(user_id: int, language: str = "en", text: str = "How many videos?") -> QuestionAsked:
    return QuestionAsked(
        channel="telegram", chat_id=user_id, user_id=user_id, language=language, text=text
    )


async def publish_answer(nc: Client, subjects: Subjects, answer: QuestionAnswered) -> None:
    subject = subjects.answer("telegram", str(answer.question.question_id))
    await nc.publish(subject, answer.model_dump_json().encode())
    await nc.flush()


async def test_question_round_trip_gets_the_number(
    telegram: FakeTelegram, nc: Client, subjects: Subjects, user_id: int
) -> None:
    """The answer to a question asked in Telegram comes back to that chat as a grouped number."""
    question_box = await nc.subscribe(subjects.question_asked)
    telegram.push_message(user_id, user_id, "How many videos are there?")
    question = QuestionAsked.model_validate_json((await question_box.next_msg(timeout=5)).data)
    answer = QuestionAnswered(
        question=question, outcome="answered", value=1234567, interpretation="all videos"
    )

    await publish_answer(nc, subjects, answer)
    [reply] = await telegram.wait_sent(chat_id=user_id)

    assert "1,234,567" in reply.text
    assert "all videos" in reply.text


async def test_russian_answer_groups_with_narrow_spaces(
    telegram: FakeTelegram, nc: Client, subjects: Subjects, user_id: int
) -> None:
    """A Russian question's number is grouped with U+202F narrow no-break spaces."""
    question = asked(user_id, language="ru", text="Сколько видео?")
    answer = QuestionAnswered(
        question=question, outcome="answered", value=1234567, interpretation="все видео"
    )

    await publish_answer(nc, subjects, answer)
    [reply] = await telegram.wait_sent(chat_id=user_id)

    assert "1\u202f234\u202f567" in reply.text


async def test_refusal_shows_the_reason_and_examples(
    telegram: FakeTelegram, nc: Client, subjects: Subjects, user_id: int
) -> None:
    """A refused answer tells why and lists questions that can be answered."""
    answer = QuestionAnswered(
        question=asked(user_id, text="What is the weather?"),
        outcome="refused",
        reason="I only count videos and their statistics.",
        examples=("How many videos are in the system?", "How many likes in total?"),
    )

    await publish_answer(nc, subjects, answer)
    [reply] = await telegram.wait_sent(chat_id=user_id)

    assert "I only count videos and their statistics." in reply.text
    assert "How many videos are in the system?" in reply.text
    assert "How many likes in total?" in reply.text


async def test_blocked_chat_is_logged_and_the_next_answer_goes_out(
    gateway: Gateway, telegram: FakeTelegram, nc: Client, subjects: Subjects, user_id: int
) -> None:
    """A chat that blocked the bot costs one rejected reply; other answers still go out."""
    blocked, other = user_id, -user_id
    telegram.block(blocked)
    rejected = gateway.registry.get_sample_value(
        "tally_gateway_replies_total", {"outcome": "rejected"}
    )

    for chat in (blocked, other):
        await publish_answer(nc, subjects, QuestionAnswered(question=asked(chat), outcome="failed"))
    [reply] = await telegram.wait_sent(chat_id=other)

    def rejected_since() -> float:
        after = gateway.registry.get_sample_value(
            "tally_gateway_replies_total", {"outcome": "rejected"}
        )
        return (after or 0) - (rejected or 0)

    assert "could not answer" in reply.text
    # The two answers are delivered concurrently: the refusal may come after the other reply.
    await until(lambda: rejected_since() >= 1, what="the blocked chat's rejected reply")
    await asyncio.sleep(0.2)
    assert rejected_since() == 1


async def test_server_errors_are_retried_until_the_reply_goes_out(
    gateway: Gateway, telegram: FakeTelegram, nc: Client, subjects: Subjects, user_id: int
) -> None:
    """Two 502s from Telegram cost two retries (0.5 s, 1 s), not the reply."""
    telegram.flaky(user_id, failures=2)
    await publish_answer(nc, subjects, QuestionAnswered(question=asked(user_id), outcome="failed"))
    [reply] = await telegram.wait_sent(chat_id=user_id, timeout=10)
    assert "could not answer" in reply.text


async def test_a_reply_is_given_up_after_three_attempts(
    gateway: Gateway, telegram: FakeTelegram, nc: Client, subjects: Subjects, user_id: int
) -> None:
    """Three 502s in a row: the reply is counted failed after the third attempt (the first
    one made outside tenacity's loop counts among the three); the next answer then goes out
    at its first attempt."""

    def failed() -> float:
        labels = {"outcome": "failed"}
        return gateway.registry.get_sample_value("tally_gateway_replies_total", labels) or 0

    before = failed()
    telegram.flaky(user_id, failures=3)
    await publish_answer(nc, subjects, QuestionAnswered(question=asked(user_id), outcome="failed"))
    await until(lambda: failed() > before, timeout_s=10, what="the reply given up")
    answer = QuestionAnswered(question=asked(user_id), outcome="answered", value=5)
    await publish_answer(nc, subjects, answer)
    [reply] = await telegram.wait_sent(chat_id=user_id)
    assert reply.text == "5"
    assert failed() == before + 1


async def test_invalid_answer_goes_to_dead_letters(
    telegram: FakeTelegram, nc: Client, subjects: Subjects, user_id: int
) -> None:
    """A message that is not a QuestionAnswered becomes a DeadLetter; consumption goes on."""
    letters = await nc.subscribe(subjects.dead_letter("gateway"))
    await nc.publish(subjects.answer("telegram", "broken"), b'{"outcome": "answered"}')

    letter = DeadLetter.model_validate_json((await letters.next_msg(timeout=5)).data)
    await publish_answer(
        nc, subjects, QuestionAnswered(question=asked(user_id), outcome="answered", value=7)
    )
    [reply] = await telegram.wait_sent(chat_id=user_id)

    assert letter.service == "gateway"
    assert letter.subject == subjects.answer("telegram", "broken")
    assert letter.payload == '{"outcome": "answered"}'
    assert reply.text == "7"


async def test_reply_is_sent_inside_the_consumer_span(
    telegram: FakeTelegram,
    nc: Client,
    subjects: Subjects,
    user_id: int,
    spans: InMemorySpanExporter,
) -> None:
    """The "telegram reply" span is a child of FastStream's span for the consumed answer."""
    answer = QuestionAnswered(question=asked(user_id), outcome="answered", value=3)

    await publish_answer(nc, subjects, answer)
    await telegram.wait_sent(chat_id=user_id)

    def replies() -> list[ReadableSpan]:
        return [
            span
            for span in spans.get_finished_spans()
            if span.name == "telegram reply"
            and span.attributes
            and span.attributes["tally.question_id"] == str(answer.question.question_id)
        ]

    # the span ends when sendMessage returns, after the server saw it
    await until(lambda: bool(replies()), timeout_s=5, what="the reply span", every_s=0.1)
    finished = spans.get_finished_spans()
    [reply] = replies()
    assert reply.parent is not None
    [parent] = [span for span in finished if span.context.span_id == reply.parent.span_id]
    assert parent.kind is SpanKind.CONSUMER


async def test_sql_shows_what_the_last_answer_ran(
    telegram: FakeTelegram, nc: Client, subjects: Subjects, user_id: int
) -> None:
    """/sql replies with the question, the interpretation and the SQL with its parameters,
    HTML-escaped; before any answer it says to ask first."""
    telegram.push_message(chat_id=user_id, user_id=user_id, text="/sql")
    [nothing] = await telegram.wait_sent(chat_id=user_id)
    assert "ask a question first" in nothing.text
    answer = QuestionAnswered(
        question=asked(user_id, text="How many videos have > 10 likes?"),
        outcome="answered",
        value=7,
        interpretation="videos with more than 10 likes",
        sql="SELECT count(*) FROM videos WHERE likes_count > $1::BIGINT",
        params={"likes_count_1": 10},
    )
    await publish_answer(nc, subjects, answer)
    await telegram.wait_sent(chat_id=user_id)
    await asyncio.sleep(0.6)  # past the per-user throttle interval of these tests (0.5 s)
    telegram.push_message(chat_id=user_id, user_id=user_id, text="/sql")
    [shown] = await telegram.wait_sent(chat_id=user_id)
    assert shown.parse_mode == "HTML"
    assert "videos with more than 10 likes" in shown.text
    assert "likes_count &gt; $1::BIGINT" in shown.text
    assert "likes_count_1</code> = 10" in shown.text


async def test_answers_carry_feedback_buttons_and_a_press_is_published(
    telegram: FakeTelegram, nc: Client, subjects: Subjects, user_id: int
) -> None:
    """An answered question shows 👍/👎; pressing 👎 publishes AnswerFeedback for it."""
    feedback_box = await nc.subscribe(subjects.feedback)
    answer = QuestionAnswered(question=asked(user_id), outcome="answered", value=3)
    await publish_answer(nc, subjects, answer)
    [reply] = await telegram.wait_sent(chat_id=user_id)
    buttons = reply.reply_markup["inline_keyboard"][0]  # type: ignore[index]
    assert [button["text"] for button in buttons] == ["👍", "👎"]
    telegram.push_callback(user_id, user_id, buttons[1]["callback_data"])
    feedback = AnswerFeedback.model_validate_json((await feedback_box.next_msg(timeout=5)).data)
    assert (feedback.question_id, feedback.verdict) == (answer.question.question_id, "down")
    assert feedback.user_id == user_id


async def test_refusals_have_no_feedback_buttons(
    telegram: FakeTelegram, nc: Client, subjects: Subjects, user_id: int
) -> None:
    """Only numbers get rated: a refusal is sent without buttons."""
    refusal = QuestionAnswered(question=asked(user_id), outcome="refused", reason="unclear")
    await publish_answer(nc, subjects, refusal)
    [reply] = await telegram.wait_sent(chat_id=user_id)
    assert reply.reply_markup is None
