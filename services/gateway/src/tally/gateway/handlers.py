"""The gateway's NATS subscribers: answers go to the asker's chat, alerts to the admins' chats.

The handlers are plain typed functions; they take the gateway's :class:`GatewayContext` from
the broker's FastStream context (``GatewayDep``, put there by :func:`provide_context`). Their
subjects carry the deployment's prefix, so :func:`create_router` subscribes them on a router
made for one broker.
"""

from typing import Annotated, Final

from aiogram.enums import ParseMode
from faststream.nats import NatsBroker, NatsRouter
from opentelemetry import trace

from tally.contracts.alerting import AlertNotification
from tally.contracts.digests import DigestReady
from tally.contracts.events import QuestionAnswered
from tally.contracts.render import render_answer
from tally.contracts.subjects import Subjects
from tally.gateway.context import GatewayContext
from tally.gateway.domain.alerts import notification_text
from tally.gateway.telegram.digest import post_digest
from tally.gateway.telegram.keyboards import alert_keyboard, answer_keyboard
from tally.runtime.context import InlineContext

QUEUE: Final = "gateway"
"""Queue group: with several gateways running, each alert and digest is sent once, and so is
each answer to a question without ``reply_to`` (from an older gateway)."""
CONTEXT_KEY: Final = "gateway"
"""Where the GatewayContext is in the broker's FastStream context."""

GatewayDep = Annotated[GatewayContext, InlineContext(CONTEXT_KEY)]

tracer: Final = trace.get_tracer("tally.gateway")


async def reply(answer: QuestionAnswered, ctx: GatewayDep) -> None:
    """Send the rendered answer to the chat the question came from, with 👍/👎 under a
    number and one button per reading under an ambiguous question (offered in
    ``pending_choices`` first, so a press on any gateway finds it; the answer kept in
    ``last_answers`` for /sql); a second answer to a question asked again (see
    domain.reasks) is dropped."""
    if not ctx.reasks.first_answer(str(answer.question.question_id)):
        return
    with tracer.start_as_current_span("telegram reply") as span:
        span.set_attribute("tally.question_id", str(answer.question.question_id))
        span.set_attribute("tally.outcome", answer.outcome)
        if answer.choices:
            await ctx.pending_choices.offer(answer)
        keyboard = answer_keyboard(answer)
        await ctx.send(answer.question.chat_id, render_answer(answer), reply_markup=keyboard)
        await ctx.last_answers.remember(answer)


async def alert(notification: AlertNotification, ctx: GatewayDep) -> None:
    """Send the notification to every chat in ADMIN_CHAT_IDS (HTML), with the alert buttons
    under a firing one."""
    text = notification_text(notification)
    firing = notification.status == "firing"
    buttons = alert_keyboard(notification.group_id) if firing else None
    for chat_id in ctx.admin_chats:
        await ctx.send(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=buttons)


async def digest(ready: DigestReady, ctx: GatewayDep) -> None:
    """Post a chat's digest (the alerts service's scheduler sends it once per period)."""
    await post_digest(ctx, ready)


def create_router(subjects: Subjects, *, instance: str, reply_concurrency: int) -> NatsRouter:
    """A NatsRouter with :func:`reply` on ``answers.telegram.<instance>.*`` (the answers to
    this gateway's questions, which it alone holds and re-asks) and, in queue group QUEUE, on
    ``answers.telegram.*`` (questions without ``reply_to``: an older gateway's), each with
    ``reply_concurrency`` answers sent at once; :func:`alert` on ``alerts.*`` and
    :func:`digest` on ``digests.ready`` in queue group QUEUE."""
    router = NatsRouter()
    mine = subjects.answers_to("telegram", instance)
    router.subscriber(mine, max_workers=reply_concurrency)(reply)
    unrouted = subjects.answers_for("telegram")
    router.subscriber(unrouted, queue=QUEUE, max_workers=reply_concurrency)(reply)
    router.subscriber(subjects.alerts_all, queue=QUEUE)(alert)
    router.subscriber(subjects.digest_ready, queue=QUEUE)(digest)
    return router


def provide_context(broker: NatsBroker, ctx: GatewayContext) -> None:
    """Make ``ctx`` what the subscribers of ``broker`` get as ``GatewayDep``."""
    broker.context.set_global(CONTEXT_KEY, ctx)
