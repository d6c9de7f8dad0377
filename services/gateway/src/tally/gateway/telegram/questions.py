"""A private text message is a question: publish it as ``QuestionAsked``; anything else gets a hint.

The publication happens inside a ``telegram receive`` span, so FastStream's telemetry
middleware carries the trace to nl2sql in the message headers.
"""

import time
from typing import Final

from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.types import Message
from opentelemetry import trace

from tally.contracts.events import QuestionAsked
from tally.contracts.language import detect_language
from tally.gateway.context import GatewayContext
from tally.gateway.domain.texts import MAX_QUESTION_CHARS, say
from tally.gateway.telegram.filters import inline

router: Final = Router(name=__name__)
router.message.filter(inline(F.chat.type == ChatType.PRIVATE))

tracer: Final = trace.get_tracer("tally.gateway")


@router.message(inline(F.text.strip().len().in_(range(1, MAX_QUESTION_CHARS + 1))))
async def ask(message: Message, ctx: GatewayContext) -> None:
    """Publish the question to ``subjects.question_asked``; the answer comes back on the bus
    to this gateway (``reply_to``; a late one is asked again, see domain.reasks)."""
    ctx.metrics.message("question")
    with tracer.start_as_current_span("telegram receive") as span:
        question = _question(message, reply_to=ctx.settings.gateway_instance)
        span.set_attribute("tally.question_id", str(question.question_id))
        await ctx.broker.publish(question, ctx.subjects.question_asked)
    ctx.reasks.asked(question, time.monotonic())


@router.message(inline(F.text))
async def too_long(message: Message, ctx: GatewayContext) -> None:
    """A text too long (or blank) to be a question: say so."""
    await _hint(message, ctx, "too_long")


@router.message()
async def not_text(message: Message, ctx: GatewayContext) -> None:
    """A sticker, photo, voice...: say that only text questions are understood."""
    await _hint(message, ctx, "not_text")


def _question(message: Message, *, reply_to: str) -> QuestionAsked:
    text = (message.text or "").strip()
    user = message.from_user
    return QuestionAsked(
        channel="telegram",
        chat_id=message.chat.id,
        user_id=user.id if user else message.chat.id,
        language=detect_language(text, user.language_code if user else None),
        text=text,
        reply_to=reply_to,
    )


async def _hint(message: Message, ctx: GatewayContext, key: str) -> None:
    ctx.metrics.message("other")
    user = message.from_user
    language = detect_language(message.text or "", user.language_code if user else None)
    await ctx.send(message.chat.id, say(key, language))
