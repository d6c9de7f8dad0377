"""👍/👎 under each answer (keyboards.feedback_keyboard): a press becomes AnswerFeedback on
the bus (ingest stores it)."""

from typing import Final

from aiogram import Router
from aiogram.types import CallbackQuery

from tally.contracts.events import AnswerFeedback
from tally.contracts.language import detect_language
from tally.gateway.context import GatewayContext
from tally.gateway.telegram.keyboards import FeedbackButton

router: Final = Router(name=__name__)

_THANKS: Final = {"en": "Thanks, noted.", "ru": "Спасибо, учтено."}


@router.callback_query(FeedbackButton.filter())
async def record_feedback(
    query: CallbackQuery, callback_data: FeedbackButton, ctx: GatewayContext
) -> None:
    """Publish the verdict for the question and thank the user (a toast, not a message)."""
    chat_id = query.message.chat.id if query.message else query.from_user.id
    feedback = AnswerFeedback(
        question_id=callback_data.question,
        chat_id=chat_id,
        user_id=query.from_user.id,
        verdict=callback_data.verdict,
    )
    await ctx.broker.publish(feedback, ctx.subjects.feedback)
    ctx.metrics.message("feedback")
    language = detect_language("", query.from_user.language_code)
    await query.answer(_THANKS[language])
