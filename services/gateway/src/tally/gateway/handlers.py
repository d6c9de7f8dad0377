"""The gateway's NATS subscribers: answers go to the asker's chat, alerts to the admins' chats."""

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.types import InlineKeyboardMarkup
from faststream.nats import NatsRouter
from opentelemetry import trace

from tally.contracts.alerting import AlertNotification
from tally.contracts.events import QuestionAnswered
from tally.contracts.render import render_answer
from tally.contracts.subjects import Subjects
from tally.gateway.config import GatewaySettings
from tally.gateway.domain.alerts import notification_text
from tally.gateway.domain.memory import LastAnswers, PendingChoices
from tally.gateway.domain.reasks import Reasks
from tally.gateway.metrics import GatewayMetrics
from tally.gateway.telegram.alerts import alert_keyboard
from tally.gateway.telegram.choices import choices_keyboard
from tally.gateway.telegram.delivery import deliver
from tally.gateway.telegram.feedback import feedback_keyboard

QUEUE = "gateway"
"""Queue group: with several gateways running, each answer and alert is sent once."""

tracer = trace.get_tracer("tally.gateway")


def create_router(
    settings: GatewaySettings,
    *,
    bot: Bot,
    metrics: GatewayMetrics,
    last_answers: LastAnswers,
    pending_choices: PendingChoices,
    reasks: Reasks,
) -> NatsRouter:
    """A NatsRouter delivering ``QuestionAnswered`` (remembered for /sql in ``last_answers``;
    an ambiguous one, whose readings can be picked, in ``pending_choices``) and
    ``AlertNotification`` through ``bot``."""
    subjects = Subjects(settings.subject_prefix)
    router = NatsRouter()

    @router.subscriber(
        subjects.answers_for("telegram"), queue=QUEUE, max_workers=settings.reply_concurrency
    )
    async def reply(answer: QuestionAnswered) -> None:
        """Send the rendered answer to the chat the question came from, with 👍/👎 under a
        number and one button per reading under an ambiguous question; a second answer to a
        question asked again (see domain.reasks) is dropped."""
        if not reasks.first_answer(str(answer.question.question_id)):
            return
        with tracer.start_as_current_span("telegram reply") as span:
            span.set_attribute("tally.question_id", str(answer.question.question_id))
            span.set_attribute("tally.outcome", answer.outcome)
            if answer.choices:
                pending_choices.remember(answer)
            text = render_answer(answer)
            await deliver(
                bot, answer.question.chat_id, text, metrics=metrics, reply_markup=_buttons(answer)
            )
            last_answers.remember(answer)

    @router.subscriber(subjects.alerts_all, queue=QUEUE)
    async def alert(notification: AlertNotification) -> None:
        """Send the notification to every chat in ADMIN_CHAT_IDS (HTML), with the alert
        buttons under a firing one."""
        text = notification_text(notification)
        firing = notification.status == "firing"
        buttons = alert_keyboard(notification.group_id) if firing else None
        for chat_id in settings.admin_chat_ids:
            await deliver(
                bot, chat_id, text, metrics=metrics, parse_mode=ParseMode.HTML, reply_markup=buttons
            )

    return router


def _buttons(answer: QuestionAnswered) -> InlineKeyboardMarkup | None:
    if answer.choices:
        return choices_keyboard(answer)
    if answer.outcome == "answered":
        return feedback_keyboard(answer.question.question_id)
    return None
