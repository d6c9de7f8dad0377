"""Group capture: every update of a group or supergroup becomes a chat event on JetStream.

Messages, edits, reactions, reaction counts, joins and leaves, and title changes are mapped
by :mod:`tally.gateway.domain.capture` and published on ``subjects.chat_event(chat, kind)``
into the CHAT_EVENTS stream with ``Nats-Msg-Id: <event_id>``, so an update Telegram hands
over again (after a restart) is stored once. Each captured update gets a ``telegram capture``
span; the broker's telemetry carries it to ingest in the message headers. A publish waits for
JetStream's confirmation and is retried (:mod:`tally.gateway.telegram.chat_events`). A
message's text travels only when the chat's settings allow it (:mod:`tally.gateway.chat_settings`).

Joins and leaves can reach the bot twice: as a ``chat_member`` update (only when the bot is an
administrator, and the richer one: it names the inviter and the invite link) and as a
``new_chat_members`` / ``left_chat_member`` service message (always). ``chat_member`` wins:
a service message is published only in chats where the bot is not an administrator, as
``getChatMember`` said on the first service message there and ``my_chat_member`` updates
said since (a ``chat_member`` update proves it too). So each change is counted once.

When the bot is added to a group (``my_chat_member``), its member count is taken at once
(:mod:`tally.gateway.telegram.member_counts`, which also takes it daily).

The message handler passes every message on (``SkipHandler``) once captured: routers
included after this one (group commands) still see it.
"""

from typing import Final

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.types import (
    ChatMemberUpdated,
    Message,
    MessageReactionCountUpdated,
    MessageReactionUpdated,
    Update,
)

from tally.gateway.context import GatewayContext
from tally.gateway.domain import capture
from tally.gateway.telegram.chat_events import is_administrator
from tally.gateway.telegram.filters import inline
from tally.gateway.telegram.member_counts import snapshot_added

router: Final = Router(name=__name__)
for _observer in (
    router.message,
    router.edited_message,
    router.message_reaction,
    router.message_reaction_count,
    router.chat_member,
    router.my_chat_member,
):
    _observer.filter(inline(F.chat.type.in_(capture.GROUP_CHATS)))


@router.message(inline(F.new_chat_title))
async def title(message: Message, event_update: Update, ctx: GatewayContext) -> None:
    """A title change."""
    event = capture.title_changed(message, update_id=event_update.update_id)
    await ctx.chat_events.publish([event] if event else [], update_id=event_update.update_id)


@router.message(inline(F.new_chat_members | F.left_chat_member))
async def members_message(message: Message, event_update: Update, ctx: GatewayContext) -> None:
    """Joins and leaves from a service message, unless ``chat_member`` reports them."""
    if await ctx.bot_roles.is_admin(ctx.bot, message.chat.id):
        return
    events = capture.members_from_message(message, update_id=event_update.update_id)
    await ctx.chat_events.publish(events, update_id=event_update.update_id)


@router.message()
async def posted(message: Message, event_update: Update, ctx: GatewayContext) -> None:
    """A message (a service message without a capture of its own is skipped); passed on."""
    store_text = ctx.chat_settings.store_text(message.chat.id)
    event = capture.message_posted(message, update_id=event_update.update_id, store_text=store_text)
    await ctx.chat_events.publish([event] if event else [], update_id=event_update.update_id)
    raise SkipHandler


@router.edited_message()
async def edited(message: Message, event_update: Update, ctx: GatewayContext) -> None:
    """An edit (its new text only when the chat allows storing text)."""
    store_text = ctx.chat_settings.store_text(message.chat.id)
    event = capture.message_edited(message, update_id=event_update.update_id, store_text=store_text)
    await ctx.chat_events.publish([event], update_id=event_update.update_id)


@router.message_reaction()
async def reaction(
    update: MessageReactionUpdated, event_update: Update, ctx: GatewayContext
) -> None:
    """One user's reactions to a message changed."""
    event = capture.reaction_changed(update, update_id=event_update.update_id)
    await ctx.chat_events.publish([event], update_id=event_update.update_id)


@router.message_reaction_count()
async def reaction_count(
    update: MessageReactionCountUpdated, event_update: Update, ctx: GatewayContext
) -> None:
    """The anonymous reaction totals of a message changed."""
    event = capture.reaction_counts(update, update_id=event_update.update_id)
    await ctx.chat_events.publish([event], update_id=event_update.update_id)


@router.chat_member()
async def member(update: ChatMemberUpdated, event_update: Update, ctx: GatewayContext) -> None:
    """A join or leave (other membership changes are not events)."""
    await ctx.bot_roles.remember(update.chat.id, admin=True)
    event = capture.member_changed(update, update_id=event_update.update_id)
    await ctx.chat_events.publish([event] if event else [], update_id=event_update.update_id)


@router.my_chat_member()
async def bot_role(update: ChatMemberUpdated, event_update: Update, ctx: GatewayContext) -> None:
    """The bot's own role changed: remember whether it now administers the chat; when it was
    just added, take the group's member count."""
    await ctx.bot_roles.remember(update.chat.id, admin=is_administrator(update.new_chat_member))
    await snapshot_added(
        ctx.bot, ctx.chat_events, ctx.metrics, update, update_id=event_update.update_id
    )
