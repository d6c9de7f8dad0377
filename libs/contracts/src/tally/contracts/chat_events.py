"""Group-chat events: what the gateway sees in groups and supergroups, as versioned models.

Published on ``{p}.chats.{chat_id}.{kind}`` into the CHAT_EVENTS stream with
``Nats-Msg-Id: {event_id}`` (JetStream drops a duplicate within the stream's window);
ingest stores them idempotently on (chat_id, message_id) and the event ids. Times are
timezone-aware UTC. ``text`` travels only for chats whose settings allow storing it
(``ChatSettings.store_text``, off by default); lengths and counts always travel.

``ChatEvent`` is the union of every kind, discriminated by ``kind``; validate a payload with
``CHAT_EVENT.validate_python(...)`` / ``validate_json(...)``.
"""

from typing import Annotated, Literal, get_args

from pydantic import AwareDatetime, Field, TypeAdapter

from tally.contracts.events import Event

MessageType = Literal[
    "text",
    "photo",
    "video",
    "video_note",
    "voice",
    "audio",
    "document",
    "sticker",
    "animation",
    "poll",
    "location",
    "contact",
    "other",
]
ChatType = Literal["group", "supergroup", "channel"]
MAX_TEXT = 4096
"""Telegram's longest message text (characters)."""


class ChatUser(Event):
    """A Telegram user as a chat event names them."""

    user_id: int
    username: str | None = Field(default=None, max_length=64)
    first_name: str | None = Field(default=None, max_length=256)
    last_name: str | None = Field(default=None, max_length=256)
    is_bot: bool = False


class _ChatEvent(Event):
    """Common to every chat event: ``event_id`` (unique per event: the Telegram update id
    and kind, e.g. ``"u812345:message"``), the chat, and when it happened (UTC)."""

    event_id: str = Field(min_length=1, max_length=128)
    chat_id: int
    chat_type: ChatType = "supergroup"
    chat_title: str | None = Field(default=None, max_length=256)
    occurred_at: AwareDatetime


class MessagePosted(_ChatEvent):
    """A new message. ``thread_id`` is the forum topic (None outside topics); ``sender`` is
    None for anonymous admins and channel posts; ``entities`` counts links, mentions and
    hashtags by kind."""

    kind: Literal["message"] = "message"
    message_id: int
    thread_id: int | None = None
    sender: ChatUser | None = None
    message_type: MessageType = "text"
    text_length: int = Field(default=0, ge=0)
    word_count: int = Field(default=0, ge=0)
    reply_to_message_id: int | None = None
    forwarded: bool = False
    links: int = Field(default=0, ge=0)
    mentions: int = Field(default=0, ge=0)
    hashtags: int = Field(default=0, ge=0)
    text: str | None = Field(default=None, max_length=MAX_TEXT)


class MessageEdited(_ChatEvent):
    """A message was edited at ``occurred_at``: its new length, word count and text."""

    kind: Literal["edit"] = "edit"
    message_id: int
    sent_at: AwareDatetime
    text_length: int = Field(default=0, ge=0)
    word_count: int = Field(default=0, ge=0)
    text: str | None = Field(default=None, max_length=MAX_TEXT)


class MessagesDeleted(_ChatEvent):
    """Messages deleted, where Telegram reports it (bots see few deletions)."""

    kind: Literal["delete"] = "delete"
    message_ids: tuple[int, ...] = Field(min_length=1, max_length=1000)


class ReactionChanged(_ChatEvent):
    """One user's reactions to a message changed (``message_reaction``): ``old`` and ``new``
    are emoji (or ``custom:<id>``); ``user`` is None for an anonymous chat reaction."""

    kind: Literal["reaction"] = "reaction"
    message_id: int
    user: ChatUser | None = None
    old: tuple[str, ...] = ()
    new: tuple[str, ...] = ()


class ReactionCounts(_ChatEvent):
    """Anonymous reaction totals of a message (``message_reaction_count``): emoji -> count."""

    kind: Literal["reaction_count"] = "reaction_count"
    message_id: int
    counts: dict[str, int]


class MemberChanged(_ChatEvent):
    """A member joined or left (``chat_member``); ``inviter`` is who added them, when known;
    ``via_link`` is set when they joined through an invite link."""

    kind: Literal["member"] = "member"
    user: ChatUser
    change: Literal["join", "leave"]
    inviter: ChatUser | None = None
    via_link: bool = False


class TitleChanged(_ChatEvent):
    """The chat's title changed to ``title``."""

    kind: Literal["title"] = "title"
    title: str = Field(min_length=1, max_length=256)


class MemberCountObserved(_ChatEvent):
    """Telegram's member count of the chat (``getChatMemberCount``, bots included) at
    ``occurred_at``: taken once a day and when the bot is added to the chat. Ingest keeps
    the day's last count per local day (``member_counts``); its ``event_id`` is
    ``<chat_id>:member_count:<UTC day>`` for the daily snapshot, so JetStream keeps one of the
    replicas' snapshots of a day."""

    kind: Literal["member_count"] = "member_count"
    count: int = Field(ge=0)


class ChatSettings(Event):
    """A chat's settings. ``timezone`` is an IANA name (local days, heatmaps); ``store_text``
    keeps message text (off by default; turning it off erases the stored text, in the
    tables and in CHAT_EVENTS); ``retention_days`` deletes raw rows and stream events older
    than that many days, at ingest's next retention pass (None: keep forever)."""

    timezone: str = Field(default="UTC", max_length=64)
    store_text: bool = False
    retention_days: int | None = Field(default=None, ge=1, le=36_500)


class SettingsChanged(_ChatEvent):
    """An admin changed a chat's settings (dashboard -> ingest, which owns the write).
    ``changed_by`` is the Telegram user id of the chat admin who did it through a signed
    dashboard link; None when the operator (the dashboard's admin token) did."""

    kind: Literal["settings"] = "settings"
    settings: ChatSettings
    changed_by: int | None = None


ChatEvent = Annotated[
    MessagePosted
    | MessageEdited
    | MessagesDeleted
    | ReactionChanged
    | ReactionCounts
    | MemberChanged
    | TitleChanged
    | SettingsChanged
    | MemberCountObserved,
    Field(discriminator="kind"),
]
CHAT_EVENT: TypeAdapter[ChatEvent] = TypeAdapter(ChatEvent)
"""Validates any chat event payload into its model (by ``kind``)."""
KINDS: tuple[str, ...] = tuple(
    str(model.model_fields["kind"].default) for model in get_args(get_args(ChatEvent)[0])
)
"""Every chat event kind, the last token of its subject (``message``, ..., ``member_count``)."""
