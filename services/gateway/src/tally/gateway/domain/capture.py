"""Telegram group updates as chat events (:mod:`tally.contracts.chat_events`): pure mapping.

Each function takes an aiogram object of a group or supergroup and the ``update_id`` it came
in, and returns the event(s) to publish; none talks to Telegram or NATS. Event ids are
``{chat_id}:u{update_id}:{kind}`` (``…:member:{user_id}`` for a service message, which can
add several members at once), so a redelivered update keeps its ids; the chat id keeps them
apart when update ids repeat (Telegram restarts its count after a week without updates).
A member count taken on a schedule, of no update, is ``{chat_id}:member_count:{UTC day}``:
every gateway replica's snapshot of that day has the same id, and JetStream keeps one.

Counting rules are :mod:`tally.contracts.chat_text`'s (``tally import-chat`` measures a
history export with them too); a caption counts as the text of a photo, video, document...
"""

from collections.abc import Sequence
from datetime import date, datetime
from typing import TypedDict

from aiogram.enums import ChatMemberStatus, ChatType, ContentType
from aiogram.types import (
    Chat,
    ChatMemberRestricted,
    ChatMemberUpdated,
    Message,
    MessageEntity,
    MessageReactionCountUpdated,
    MessageReactionUpdated,
    ReactionTypeCustomEmoji,
    ReactionTypeEmoji,
    User,
)
from aiogram.types.chat_member_union import ChatMemberUnion
from aiogram.types.reaction_type_union import ReactionTypeUnion

from tally.contracts.chat_events import ChatType as EventChatType
from tally.contracts.chat_events import (
    ChatUser,
    MemberChanged,
    MemberCountObserved,
    MessageEdited,
    MessagePosted,
    MessageType,
    ReactionChanged,
    ReactionCounts,
    TitleChanged,
)
from tally.contracts.chat_text import entity_counts as count_entity_kinds
from tally.contracts.chat_text import kept_text, word_count

GROUP_CHATS = frozenset({ChatType.GROUP, ChatType.SUPERGROUP})
"""The chat types whose activity is captured."""

MESSAGE_TYPES: dict[str, MessageType] = {
    ContentType.TEXT: "text",
    ContentType.PHOTO: "photo",
    ContentType.VIDEO: "video",
    ContentType.VIDEO_NOTE: "video_note",
    ContentType.VOICE: "voice",
    ContentType.AUDIO: "audio",
    ContentType.DOCUMENT: "document",
    ContentType.STICKER: "sticker",
    ContentType.ANIMATION: "animation",
    ContentType.POLL: "poll",
    ContentType.LOCATION: "location",
    ContentType.VENUE: "location",
    ContentType.CONTACT: "contact",
}
OTHER_CONTENT = frozenset(
    {
        ContentType.LIVE_PHOTO,
        ContentType.PAID_MEDIA,
        ContentType.STORY,
        ContentType.CHECKLIST,
        ContentType.DICE,
        ContentType.GAME,
        ContentType.INVOICE,
        ContentType.GIVEAWAY,
        ContentType.UNKNOWN,
    }
)
"""Content people post that has no type of its own (``other``); an unknown content is one
too. Every remaining content type is a service message (pin, topic, video chat...)."""


class _ChatFields(TypedDict):
    chat_id: int
    chat_type: EventChatType
    chat_title: str | None


_PRESENT = frozenset(
    {ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.MEMBER}
)


def message_type(message: Message) -> MessageType | None:
    """The kind of content ``message`` carries; None for a service message."""
    content = message.content_type
    if content in MESSAGE_TYPES:
        return MESSAGE_TYPES[content]
    return "other" if content in OTHER_CONTENT else None


def entity_counts(entities: Sequence[MessageEntity]) -> tuple[int, int, int]:
    """(links, mentions, hashtags) among ``entities``."""
    return count_entity_kinds(entity.type for entity in entities)


def chat_user(user: User) -> ChatUser:
    """The event's view of a Telegram user."""
    return ChatUser(
        user_id=user.id,
        username=user.username,
        first_name=user.first_name,
        last_name=user.last_name,
        is_bot=user.is_bot,
    )


def message_posted(message: Message, *, update_id: int, store_text: bool) -> MessagePosted | None:
    """A new message as ``MessagePosted`` (its text only when ``store_text``); None for a
    service message (new members, title, pin, topic...), which is not a message posted."""
    kind = message_type(message)
    if kind is None:
        return None
    text = _text(message)
    links, mentions, hashtags = entity_counts(message.entities or message.caption_entities or [])
    return MessagePosted(
        event_id=f"{message.chat.id}:u{update_id}:message",
        **_chat(message.chat),
        occurred_at=message.date,
        message_id=message.message_id,
        thread_id=message.message_thread_id if message.is_topic_message else None,
        sender=_sender(message),
        message_type=kind,
        text_length=len(text),
        word_count=word_count(text),
        reply_to_message_id=_reply_to(message),
        forwarded=message.forward_origin is not None,
        links=links,
        mentions=mentions,
        hashtags=hashtags,
        text=kept_text(text, store_text),
    )


def message_edited(message: Message, *, update_id: int, store_text: bool) -> MessageEdited:
    """An ``edited_message`` as ``MessageEdited``: edited at ``edit_date`` (the message's
    date when Telegram gives none), sent at its ``date``."""
    text = _text(message)
    return MessageEdited(
        event_id=f"{message.chat.id}:u{update_id}:edit",
        **_chat(message.chat),
        occurred_at=message.edit_date or message.date,
        message_id=message.message_id,
        sent_at=message.date,
        text_length=len(text),
        word_count=word_count(text),
        text=kept_text(text, store_text),
    )


def reaction_changed(update: MessageReactionUpdated, *, update_id: int) -> ReactionChanged:
    """A ``message_reaction`` update; the user is None when an anonymous admin or a chat
    reacted."""
    return ReactionChanged(
        event_id=f"{update.chat.id}:u{update_id}:reaction",
        **_chat(update.chat),
        occurred_at=update.date,
        message_id=update.message_id,
        user=chat_user(update.user) if update.user else None,
        old=tuple(reaction_key(reaction) for reaction in update.old_reaction),
        new=tuple(reaction_key(reaction) for reaction in update.new_reaction),
    )


def reaction_counts(update: MessageReactionCountUpdated, *, update_id: int) -> ReactionCounts:
    """A ``message_reaction_count`` update: the anonymous totals per reaction."""
    return ReactionCounts(
        event_id=f"{update.chat.id}:u{update_id}:reaction_count",
        **_chat(update.chat),
        occurred_at=update.date,
        message_id=update.message_id,
        counts={reaction_key(count.type): count.total_count for count in update.reactions},
    )


def reaction_key(reaction: ReactionTypeUnion) -> str:
    """The emoji itself, ``custom:<custom emoji id>``, or ``paid`` for a paid (star)
    reaction."""
    if isinstance(reaction, ReactionTypeEmoji):
        return reaction.emoji
    if isinstance(reaction, ReactionTypeCustomEmoji):
        return f"custom:{reaction.custom_emoji_id}"
    return "paid"


def is_member(member: ChatMemberUnion) -> bool:
    """True when ``member`` is in the chat: creator, administrator, member, or restricted
    while still a member (``is_member``); left and kicked users are not."""
    if isinstance(member, ChatMemberRestricted):
        return member.is_member
    return member.status in _PRESENT


def member_changed(update: ChatMemberUpdated, *, update_id: int) -> MemberChanged | None:
    """A ``chat_member`` update as a join or a leave; None when the user stayed in (or out
    of) the chat (a promotion, a restriction). On a join, ``inviter`` is who changed the
    membership when that is someone else (who added them, or approved their request)."""
    was, now = is_member(update.old_chat_member), is_member(update.new_chat_member)
    if was == now:
        return None
    user = update.new_chat_member.user
    inviter = update.from_user if now and update.from_user.id != user.id else None
    return MemberChanged(
        event_id=f"{update.chat.id}:u{update_id}:member",
        **_chat(update.chat),
        occurred_at=update.date,
        user=chat_user(user),
        change="join" if now else "leave",
        inviter=chat_user(inviter) if inviter else None,
        via_link=now and update.invite_link is not None,
    )


def bot_added(update: ChatMemberUpdated) -> bool:
    """True when a ``my_chat_member`` update says the bot was out of the chat and is now in."""
    return is_member(update.new_chat_member) and not is_member(update.old_chat_member)


def daily_count_id(chat_id: int, day: date) -> str:
    """The event id of chat ``chat_id``'s scheduled member count of UTC ``day``."""
    return f"{chat_id}:member_count:{day.isoformat()}"


def member_count(chat: Chat, count: int, *, at: datetime, event_id: str) -> MemberCountObserved:
    """Telegram's member ``count`` of ``chat`` (a group or supergroup) taken at ``at``."""
    return MemberCountObserved(event_id=event_id, **_chat(chat), occurred_at=at, count=count)


def members_from_message(message: Message, *, update_id: int) -> list[MemberChanged]:
    """The joins of a ``new_chat_members`` service message (the sender is the inviter when
    they added someone else) or the leave of a ``left_chat_member`` one; [] for any other
    message. Service messages do not say whether an invite link was used."""
    joins = [_service_member(message, user, update_id) for user in message.new_chat_members or []]
    if message.left_chat_member is None:
        return joins
    return [*joins, _service_member(message, message.left_chat_member, update_id, left=True)]


def title_changed(message: Message, *, update_id: int) -> TitleChanged | None:
    """A ``new_chat_title`` service message as ``TitleChanged``; None for any other message."""
    if not message.new_chat_title:
        return None
    return TitleChanged(
        event_id=f"{message.chat.id}:u{update_id}:title",
        **_chat(message.chat),
        occurred_at=message.date,
        title=message.new_chat_title,
    )


def _service_member(
    message: Message, user: User, update_id: int, *, left: bool = False
) -> MemberChanged:
    adder = message.from_user
    invited = not left and adder is not None and adder.id != user.id
    return MemberChanged(
        event_id=f"{message.chat.id}:u{update_id}:member:{user.id}",
        **_chat(message.chat),
        occurred_at=message.date,
        user=chat_user(user),
        change="leave" if left else "join",
        inviter=chat_user(adder) if invited and adder else None,
    )


def _chat(chat: Chat) -> _ChatFields:
    chat_type: EventChatType = "group" if chat.type == ChatType.GROUP else "supergroup"
    return {"chat_id": chat.id, "chat_type": chat_type, "chat_title": chat.title}


def _text(message: Message) -> str:
    return message.text or message.caption or ""


def _sender(message: Message) -> ChatUser | None:
    """None for an anonymous admin or a channel speaking in the chat (``sender_chat``)."""
    if message.sender_chat is not None or message.from_user is None:
        return None
    return chat_user(message.from_user)


def _reply_to(message: Message) -> int | None:
    """The replied message's id; None when the message only sits in a forum topic (Telegram
    then gives the topic's first message, whose id is the thread id, as ``reply_to``)."""
    reply = message.reply_to_message
    if reply is None:
        return None
    if message.is_topic_message and reply.message_id == message.message_thread_id:
        return None
    return reply.message_id
