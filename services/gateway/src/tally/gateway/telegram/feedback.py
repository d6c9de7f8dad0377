"""👍/👎 under each answer: a press becomes AnswerFeedback on the bus (ingest stores it)."""

from typing import Final, Literal
from uuid import UUID

from aiogram import Router
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder
from faststream.nats import NatsBroker

from tally.contracts.events import AnswerFeedback
from tally.contracts.language import detect_language
from tally.contracts.subjects import Subjects
from tally.gateway.metrics import GatewayMetrics

router: Final = Router(name=__name__)

_THANKS: Final = {"en": "Thanks, noted.", "ru": "Спасибо, учтено."}


class FeedbackButton(CallbackData, prefix="fb"):
    """Callback data of a feedback button: ``fb:<up|down>:<question id>`` (42 bytes, under
    Telegram's 64-byte limit)."""

    verdict: Literal["up", "down"]
    question: UUID


def feedback_keyboard(question_id: UUID) -> InlineKeyboardMarkup:
    """The two buttons shown under an answer."""
    builder = InlineKeyboardBuilder()
    builder.button(text="👍", callback_data=FeedbackButton(verdict="up", question=question_id))
    builder.button(text="👎", callback_data=FeedbackButton(verdict="down", question=question_id))
    return builder.as_markup()


@router.callback_query(FeedbackButton.filter())
async def record_feedback(
    query: CallbackQuery,
    callback_data: FeedbackButton,
    broker: NatsBroker,
    subjects: Subjects,
    metrics: GatewayMetrics,
) -> None:
    """Publish the verdict for the question and thank the user (a toast, not a message)."""
    chat_id = query.message.chat.id if query.message else query.from_user.id
    feedback = AnswerFeedback(
        question_id=callback_data.question,
        chat_id=chat_id,
        user_id=query.from_user.id,
        verdict=callback_data.verdict,
    )
    await broker.publish(feedback, subjects.feedback)
    metrics.message("feedback")
    language = detect_language("", query.from_user.language_code)
    await query.answer(_THANKS[language])
