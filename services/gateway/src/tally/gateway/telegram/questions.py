"""A private text message is a question: publish it as ``QuestionAsked``; anything else gets a hint.

The publication happens inside a ``telegram receive`` span, so FastStream's telemetry
middleware carries the trace to nl2sql in the message headers.
"""

import time
from typing import Final

from aiogram import Bot, F, Router
from aiogram.enums import ChatType
from aiogram.types import Message
from faststream.nats import NatsBroker
from opentelemetry import trace

from tally.contracts.events import QuestionAsked
from tally.contracts.language import detect_language
from tally.contracts.subjects import Subjects
from tally.gateway.domain.reasks import Reasks
from tally.gateway.domain.texts import MAX_QUESTION_CHARS, say
from tally.gateway.metrics import GatewayMetrics
from tally.gateway.telegram.delivery import deliver

router: Final = Router(name=__name__)
router.message.filter(F.chat.type == ChatType.PRIVATE)

tracer: Final = trace.get_tracer("tally.gateway")


@router.message(F.text.strip().len().in_(range(1, MAX_QUESTION_CHARS + 1)))
async def ask(
    message: Message,
    broker: NatsBroker,
    subjects: Subjects,
    metrics: GatewayMetrics,
    reasks: Reasks,
) -> None:
    """Publish the question to ``subjects.question_asked``; the answer comes back on the bus
    (a late one is asked again, see domain.reasks)."""
    metrics.message("question")
    with tracer.start_as_current_span("telegram receive") as span:
        question = _question(message)
        span.set_attribute("tally.question_id", str(question.question_id))
        await broker.publish(question, subjects.question_asked)
    reasks.asked(question, time.monotonic())


@router.message(F.text)
async def too_long(message: Message, bot: Bot, metrics: GatewayMetrics) -> None:
    """A text too long (or blank) to be a question: say so."""
    metrics.message("other")
    await _hint(message, bot, metrics, "too_long")


@router.message()
async def not_text(message: Message, bot: Bot, metrics: GatewayMetrics) -> None:
    """A sticker, photo, voice...: say that only text questions are understood."""
    metrics.message("other")
    await _hint(message, bot, metrics, "not_text")


def _question(message: Message) -> QuestionAsked:
    text = (message.text or "").strip()
    user = message.from_user
    return QuestionAsked(
        channel="telegram",
        chat_id=message.chat.id,
        user_id=user.id if user else message.chat.id,
        language=detect_language(text, user.language_code if user else None),
        text=text,
    )


async def _hint(message: Message, bot: Bot, metrics: GatewayMetrics, key: str) -> None:
    user = message.from_user
    language = detect_language(message.text or "", user.language_code if user else None)
    await deliver(bot, message.chat.id, say(key, language), metrics=metrics)
