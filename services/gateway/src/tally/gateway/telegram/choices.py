"""Ask-back: the readings of an ambiguous question as buttons (keyboards.choices_keyboard);
a press plans the one picked.

The gateway offers each ambiguous answer it delivers in the state every gateway shares
(``SharedChoices``), so the press may reach any gateway; the asker's press publishes the
picked reading's ``QueryPlanned`` to ``plans.ready`` inside a ``telegram pick`` span, so the
executor answers it (and the reply comes back) in one trace.
"""

from typing import Final
from uuid import UUID

import structlog
from aiogram import Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery
from opentelemetry import trace

from tally.contracts.events import QueryPlanned
from tally.contracts.language import detect_language
from tally.gateway.context import GatewayContext
from tally.gateway.domain.memory import PickRefusal
from tally.gateway.domain.texts import say
from tally.gateway.telegram.keyboards import PickButton

router: Final = Router(name=__name__)

tracer: Final = trace.get_tracer("tally.gateway")
log = structlog.get_logger(__name__)


@router.callback_query(PickButton.filter())
async def pick(query: CallbackQuery, callback_data: PickButton, ctx: GatewayContext) -> None:
    """Plan the picked reading, its answer to come to this gateway (``reply_to``: the press
    may reach another gateway than the one that offered the readings), and take the buttons
    away; a press by someone else than the asker, or on a forgotten question, gets a short
    notice instead."""
    picked = await ctx.pending_choices.pick(
        callback_data.question, callback_data.number, user_id=query.from_user.id
    )
    if isinstance(picked, PickRefusal):
        await query.answer(say(picked.value, detect_language("", query.from_user.language_code)))
        return
    await query.answer()
    ctx.metrics.message("pick")
    mine = picked.question.model_copy(update={"reply_to": ctx.settings.gateway_instance})
    await _publish(picked.model_copy(update={"question": mine}), callback_data.question, ctx)
    await _remove_buttons(query, ctx)


async def _publish(planned: QueryPlanned, picked_from: UUID, ctx: GatewayContext) -> None:
    with tracer.start_as_current_span("telegram pick") as span:
        span.set_attribute("tally.question_id", str(planned.question.question_id))
        span.set_attribute("tally.picked_from", str(picked_from))
        await ctx.broker.publish(planned, ctx.subjects.plan_ready)


async def _remove_buttons(query: CallbackQuery, ctx: GatewayContext) -> None:
    """Edit the message the buttons are under so they are gone (cosmetic: a second press of
    a picked question is EXPIRED anyway)."""
    if query.message is None:
        return
    try:
        await ctx.bot.edit_message_reply_markup(
            chat_id=query.message.chat.id, message_id=query.message.message_id
        )
    except TelegramBadRequest as error:
        log.warning("could not remove choice buttons", error=error.message)
