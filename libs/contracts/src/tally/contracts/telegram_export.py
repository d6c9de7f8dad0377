"""The messages of a Telegram Desktop chat export (``result.json``), as Telegram Desktop
writes them (``Telegram/SourceFiles/export/output/export_output_json.cpp``).

A message is ``{"id", "type": "message" | "service", "date", "date_unixtime", ...}``. Its
``text`` is a string or a list of strings and entity objects, ``text_entities`` those parts
typed (``link``, ``text_link``, ``mention``, ``mention_name``, ``hashtag``, ``plain``...);
media show as ``photo``, ``file`` with ``media_type`` (``sticker``, ``voice_message``,
``video_message``, ``animation``, ``video_file``, ``audio_file``), ``poll``,
``location_information``, ``place_name``, ``contact_information``; ``reactions`` are totals
(``{"type": "emoji" | "custom_emoji" | "paid", "count", "emoji" | "document_id", "recent"}``).
``forwarded_from`` is there, possibly null, when the message was forwarded;
``reply_to_peer_id`` only when the reply is to another chat's message. A service message names
its ``actor``/``actor_id`` and its ``action`` (``invite_members`` / ``remove_members`` with
``members`` by display name only, ``join_group_by_link``, ``join_group_by_request``,
``edit_group_title`` with ``title``, ``topic_created``...). Peers are ``user<id>``,
``channel<id>`` or ``chat<id>``.
"""

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tally.contracts.chat_events import MessageType

MEDIA_TYPES: dict[str, MessageType] = {
    "sticker": "sticker",
    "video_message": "video_note",
    "voice_message": "voice",
    "animation": "animation",
    "video_file": "video",
    "audio_file": "audio",
}
ENTITY_KINDS = {"link": "url", "mention_name": "text_mention"}
"""Export entity names that the Bot API names otherwise; the rest are the same."""


class SkippedMessage(Exception):
    """One message of the export cannot become chat events; ``args[0]`` says why."""


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str = "plain"
    text: str = ""


class _Reaction(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: str = "emoji"
    count: int = Field(ge=0)
    emoji: str | None = None
    document_id: str | None = None


class ExportedMessage(BaseModel):
    """One element of ``messages``, the fields the import reads (others are ignored)."""

    model_config = ConfigDict(extra="ignore")
    id: int
    type: Literal["message", "service", "unsupported"]
    date: datetime | None = None
    date_unixtime: int | None = None
    edited: datetime | None = None
    edited_unixtime: int | None = None
    sender: str | None = Field(default=None, alias="from")
    from_id: str | None = None
    actor: str | None = None
    actor_id: str | None = None
    action: str | None = None
    members: list[str | None] = []
    title: str | None = None
    text: str | list[str | _Part] = ""
    text_entities: list[_Part] | None = None
    reply_to_message_id: int | None = None
    reply_to_peer_id: str | None = None
    forwarded_from: str | None = None
    media_type: str | None = None
    photo: str | None = None
    file: str | None = None
    poll: dict[str, Any] | None = None
    location_information: dict[str, Any] | None = None
    place_name: str | None = None
    contact_information: dict[str, Any] | None = None
    reactions: list[_Reaction] = []

    def sent_at(self) -> datetime:
        """When it was sent (UTC): ``date_unixtime``; an export too old to have it gives
        ``date``, in the local time of the computer that exported it, read here as this
        computer's. Raises SkippedMessage when neither is there."""
        return _moment(self.date_unixtime, self.date, "date")

    def edited_at(self) -> datetime | None:
        """When it was last edited (UTC), None when it was not."""
        if self.edited_unixtime is None and self.edited is None:
            return None
        return _moment(self.edited_unixtime, self.edited, "edited")

    def plain_text(self) -> str:
        """The text (a caption for media), its parts joined."""
        if isinstance(self.text, str):
            return self.text
        return "".join(part if isinstance(part, str) else part.text for part in self.text)

    def entity_kinds(self) -> list[str]:
        """Its entities by Bot API type name (``url``, ``text_mention``, ``hashtag``...)."""
        parts = self.text_entities
        if parts is None:
            parts = [part for part in self.text if isinstance(part, _Part)] if self.text else []
        kinds = (part.type for part in parts if part.type != "plain")
        return [ENTITY_KINDS.get(kind, kind) for kind in kinds]

    def message_type(self) -> MessageType:
        """The content's kind as the gateway names it."""
        if self.media_type is not None:
            return MEDIA_TYPES.get(self.media_type, "other")
        found: list[tuple[object, MessageType]] = [
            (self.photo, "photo"),
            (self.file, "document"),
            (self.poll, "poll"),
            (self.location_information or self.place_name, "location"),
            (self.contact_information, "contact"),
        ]
        return next((kind for value, kind in found if value), "text")

    def forwarded(self) -> bool:
        """Forwarded from someone (``forwarded_from`` is there, even null: a hidden sender)."""
        return "forwarded_from" in self.model_fields_set


def _moment(unixtime: int | None, local: datetime | None, name: str) -> datetime:
    if unixtime is not None:
        return datetime.fromtimestamp(unixtime, UTC)
    if local is not None:
        return local.astimezone(UTC)
    raise SkippedMessage(f"no {name}")


def user_id(peer: str | None) -> int | None:
    """The user id of an export peer id (``user123`` -> 123); None for a channel or a chat
    speaking (``channel123``, ``chat123``) or none."""
    if peer and peer.startswith("user") and peer[4:].isdigit():
        return int(peer[4:])
    return None
