"""Group capture: every update of a group or supergroup becomes a chat event on JetStream.

Messages, edits, reactions, reaction counts, joins and leaves, and title changes are mapped
by :mod:`tally.gateway.domain.capture` and published on ``subjects.chat_event(chat, kind)``
into the CHAT_EVENTS stream with ``Nats-Msg-Id: <event_id>``, so an update Telegram hands
over again (after a restart) is stored once. Each captured update gets a ``telegram capture``
span; the broker's telemetry carries it to ingest in the message headers. A publish waits for
JetStream's confirmation and is retried on NATS errors; one that still fails is logged and
counted (``tally_gateway_chat_events_total{outcome="failed"}``), never dropped silently. A
message's text travels only when the chat's settings allow it (:mod:`tally.gateway.chat_settings`).

Joins and leaves can reach the bot twice: as a ``chat_member`` update (only when the bot is an
administrator, and the richer one: it names the inviter and the invite link) and as a
``new_chat_members`` / ``left_chat_member`` service message (always). ``chat_member`` wins:
a service message is published only in chats where the bot is not an administrator, as
``getChatMember`` said on the first service message there and ``my_chat_member`` updates
said since (a ``chat_member`` update proves it too). So each change is counted once.

The message handler passes every message on (``SkipHandler``) once captured: routers
included after this one (group commands) still see it.
"""

from collections.abc import Sequence
from typing import Final

import nats.errors
import structlog
from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.enums import ChatMemberStatus
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    ChatMemberUpdated,
    Message,
    MessageReactionCountUpdated,
    MessageReactionUpdated,
    Update,
)
from aiogram.types.chat_member_union import ChatMemberUnion
from faststream.nats import NatsBroker
from opentelemetry import trace
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from tally.contracts.chat_events import ChatEvent
from tally.contracts.subjects import Subjects
from tally.gateway.chat_settings import ChatSettingsView
from tally.gateway.domain import capture
from tally.gateway.metrics import GatewayMetrics

ATTEMPTS = 4
BACKOFF_S = 0.25
PUBLISH_TIMEOUT_S = 2.0
"""A publish is tried ``ATTEMPTS`` times, each waiting up to ``PUBLISH_TIMEOUT_S`` for
JetStream's confirmation, with 0.25, 0.5 then 1 s between tries."""

_ADMINS = frozenset({ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR})

router: Final = Router(name=__name__)
for _observer in (
    router.message,
    router.edited_message,
    router.message_reaction,
    router.message_reaction_count,
    router.chat_member,
    router.my_chat_member,
):
    _observer.filter(F.chat.type.in_(capture.GROUP_CHATS))

tracer: Final = trace.get_tracer("tally.gateway")
log = structlog.get_logger(__name__)


class ChatEventPublisher:
    """Publishes chat events to the CHAT_EVENTS stream, confirmed, retried and counted."""

    def __init__(self, broker: NatsBroker, subjects: Subjects, metrics: GatewayMetrics) -> None:
        self._broker, self._subjects, self._metrics = broker, subjects, metrics

    async def publish(self, events: Sequence[ChatEvent], *, update_id: int) -> None:
        """Publish the ``events`` of update ``update_id`` in one ``telegram capture`` span."""
        if not events:
            return
        with tracer.start_as_current_span("telegram capture") as span:
            span.set_attribute("tally.update_id", update_id)
            span.set_attribute("tally.chat_id", events[0].chat_id)
            for event in events:
                if not await self._publish_one(event):
                    span.set_status(trace.StatusCode.ERROR, "chat event not published")

    async def _publish_one(self, event: ChatEvent) -> bool:
        subject = self._subjects.chat_event(event.chat_id, event.kind)
        retrying = AsyncRetrying(
            retry=retry_if_exception_type((nats.errors.Error, TimeoutError)),
            stop=stop_after_attempt(ATTEMPTS),
            wait=wait_exponential(multiplier=BACKOFF_S, min=BACKOFF_S),
            before_sleep=_log_retry,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    ack = await self._broker.publish(
                        event,
                        subject,
                        headers={"Nats-Msg-Id": event.event_id},
                        stream=self._subjects.chat_events_stream,
                        timeout=PUBLISH_TIMEOUT_S,
                    )
        except RetryError as error:
            cause = error.last_attempt.exception()
            log.error("chat event not published", event_id=event.event_id, error=repr(cause))
            self._metrics.chat_event(event.kind, "failed")
            return False
        if ack.duplicate:
            log.debug("chat event already in the stream", event_id=event.event_id)
        self._metrics.chat_event(event.kind, "published")
        return True


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning("chat event publish failed", attempt=state.attempt_number, error=repr(error))


class AdminChats:
    """Whether the bot administers each chat (then ``chat_member`` updates arrive there)."""

    def __init__(self) -> None:
        self._admin: dict[int, bool] = {}

    def remember(self, chat_id: int, *, admin: bool) -> None:
        """Record what Telegram just said about the bot's role in ``chat_id``."""
        self._admin[chat_id] = admin

    async def is_admin(self, bot: Bot, chat_id: int) -> bool:
        """The bot's role in ``chat_id``, asked with ``getChatMember`` the first time.

        When Telegram cannot say, False (not remembered): a join is better counted from the
        service message than not at all.
        """
        if chat_id not in self._admin:
            try:
                member = await bot.get_chat_member(chat_id, bot.id)
            except TelegramAPIError as error:
                log.warning("bot role unknown", chat_id=chat_id, error=str(error))
                return False
            self.remember(chat_id, admin=is_administrator(member))
        return self._admin[chat_id]


def is_administrator(member: ChatMemberUnion) -> bool:
    """True for the chat's creator or an administrator."""
    return member.status in _ADMINS


@router.message(F.new_chat_title)
async def title(message: Message, event_update: Update, chat_events: ChatEventPublisher) -> None:
    """A title change."""
    event = capture.title_changed(message, update_id=event_update.update_id)
    await chat_events.publish([event] if event else [], update_id=event_update.update_id)


@router.message(F.new_chat_members | F.left_chat_member)
async def members_message(
    message: Message,
    event_update: Update,
    bot: Bot,
    chat_events: ChatEventPublisher,
    admin_chats: AdminChats,
) -> None:
    """Joins and leaves from a service message, unless ``chat_member`` reports them."""
    if await admin_chats.is_admin(bot, message.chat.id):
        return
    events = capture.members_from_message(message, update_id=event_update.update_id)
    await chat_events.publish(events, update_id=event_update.update_id)


@router.message()
async def posted(
    message: Message,
    event_update: Update,
    chat_events: ChatEventPublisher,
    chat_settings: ChatSettingsView,
) -> None:
    """A message (a service message without a capture of its own is skipped); passed on."""
    store_text = chat_settings.store_text(message.chat.id)
    event = capture.message_posted(message, update_id=event_update.update_id, store_text=store_text)
    await chat_events.publish([event] if event else [], update_id=event_update.update_id)
    raise SkipHandler


@router.edited_message()
async def edited(
    message: Message,
    event_update: Update,
    chat_events: ChatEventPublisher,
    chat_settings: ChatSettingsView,
) -> None:
    """An edit (its new text only when the chat allows storing text)."""
    store_text = chat_settings.store_text(message.chat.id)
    event = capture.message_edited(message, update_id=event_update.update_id, store_text=store_text)
    await chat_events.publish([event], update_id=event_update.update_id)


@router.message_reaction()
async def reaction(
    update: MessageReactionUpdated, event_update: Update, chat_events: ChatEventPublisher
) -> None:
    """One user's reactions to a message changed."""
    event = capture.reaction_changed(update, update_id=event_update.update_id)
    await chat_events.publish([event], update_id=event_update.update_id)


@router.message_reaction_count()
async def reaction_count(
    update: MessageReactionCountUpdated, event_update: Update, chat_events: ChatEventPublisher
) -> None:
    """The anonymous reaction totals of a message changed."""
    event = capture.reaction_counts(update, update_id=event_update.update_id)
    await chat_events.publish([event], update_id=event_update.update_id)


@router.chat_member()
async def member(
    update: ChatMemberUpdated,
    event_update: Update,
    chat_events: ChatEventPublisher,
    admin_chats: AdminChats,
) -> None:
    """A join or leave (other membership changes are not events)."""
    admin_chats.remember(update.chat.id, admin=True)
    event = capture.member_changed(update, update_id=event_update.update_id)
    await chat_events.publish([event] if event else [], update_id=event_update.update_id)


@router.my_chat_member()
async def bot_role(update: ChatMemberUpdated, admin_chats: AdminChats) -> None:
    """The bot's own role changed: remember whether it now administers the chat."""
    admin_chats.remember(update.chat.id, admin=is_administrator(update.new_chat_member))
