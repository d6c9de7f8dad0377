"""Ask-back: the readings of an ambiguous question as buttons; a press plans the one picked.

The gateway remembers each ambiguous answer it delivers (``PendingChoices``); the asker's
press publishes the picked reading's ``QueryPlanned`` to ``plans.ready`` inside a
``telegram pick`` span, so the executor answers it (and the reply comes back) in one trace.
"""

from typing import Final
from uuid import UUID

import structlog
from aiogram import Bot, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from faststream.nats import NatsBroker
from opentelemetry import trace

from tally.contracts.events import QueryPlanned, QuestionAnswered
from tally.contracts.language import detect_language
from tally.contracts.subjects import Subjects
from tally.gateway.domain.memory import PendingChoices, PickRefusal
from tally.gateway.domain.texts import say, shorten
from tally.gateway.metrics import GatewayMetrics

router: Final = Router(name=__name__)

tracer: Final = trace.get_tracer("tally.gateway")
log = structlog.get_logger(__name__)


class PickButton(CallbackData, prefix="pick"):
    """Callback data of a choice button: ``pick:<question id>:<n>``, the id as 32 hex digits
    and ``n`` from 1 (39 bytes, under Telegram's 64-byte limit)."""

    question: UUID
    number: int


def choices_keyboard(answer: QuestionAnswered) -> InlineKeyboardMarkup:
    """One button per reading of ``answer``, one per row, labelled with its shortened label."""
    builder = InlineKeyboardBuilder()
    for number, choice in enumerate(answer.choices, 1):
        button = PickButton(question=answer.question.question_id, number=number)
        builder.button(text=shorten(choice.label), callback_data=button)
    builder.adjust(1)
    return builder.as_markup()


@router.callback_query(PickButton.filter())
async def pick(
    query: CallbackQuery,
    callback_data: PickButton,
    bot: Bot,
    broker: NatsBroker,
    subjects: Subjects,
    metrics: GatewayMetrics,
    pending_choices: PendingChoices,
) -> None:
    """Plan the picked reading and take the buttons away; a press by someone else than the
    asker, or on a forgotten question, gets a short notice instead."""
    picked = pending_choices.pick(
        callback_data.question, callback_data.number, user_id=query.from_user.id
    )
    if isinstance(picked, PickRefusal):
        await query.answer(say(picked.value, detect_language("", query.from_user.language_code)))
        return
    await query.answer()
    metrics.message("pick")
    await _publish(picked, callback_data.question, broker=broker, subjects=subjects)
    await _remove_buttons(query, bot)


async def _publish(
    planned: QueryPlanned, picked_from: UUID, *, broker: NatsBroker, subjects: Subjects
) -> None:
    with tracer.start_as_current_span("telegram pick") as span:
        span.set_attribute("tally.question_id", str(planned.question.question_id))
        span.set_attribute("tally.picked_from", str(picked_from))
        await broker.publish(planned, subjects.plan_ready)


async def _remove_buttons(query: CallbackQuery, bot: Bot) -> None:
    """Edit the message the buttons are under so they are gone (cosmetic: a second press of
    a picked question is EXPIRED anyway)."""
    if query.message is None:
        return
    try:
        await bot.edit_message_reply_markup(
            chat_id=query.message.chat.id, message_id=query.message.message_id
        )
    except TelegramBadRequest as error:
        log.warning("could not remove choice buttons", error=error.message)
