"""A Telegram Desktop chat export (``result.json``) as chat events: pure, no bus.

Shared by ``tally import-chat`` (a file on disk) and the gateway (a file an admin sends the
bot): :func:`read_header` and :func:`read_messages` read a binary stream with ijson, one
message at a time, never whole; :class:`Directory` and :class:`Converter` make the events.

An export is an object with the chat's ``name``, ``type`` and bare ``id`` (the Bot API's chat
id is ``-100<id>`` for a supergroup, ``-<id>`` for a basic group), then ``messages``
(:mod:`tally.contracts.telegram_export`). It has no topic field: a message in a forum topic replies
to the topic's ``topic_created`` message, a reply inside a topic replies to a message in it.

Events are built as the gateway builds them from live updates (the same counting rules,
:mod:`tally.contracts.chat_text`), with ids fixed by the export:
``export:{chat_id}:{message_id}@{date_unixtime}:{kind}`` (``…:member:{user_id}`` for each
member of a service message), so importing the same file twice publishes the same events. An
edit's id also holds its time (``…:edit:{edited_unixtime}``), reaction totals' a digest of
them (``…:reaction_count:{digest}``): a later export's newer edit or totals are new events,
not duplicates JetStream would drop within its window.
"""

import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, Literal

import ijson
from pydantic import ValidationError

from tally.contracts.chat_events import (
    ChatEvent,
    ChatType,
    ChatUser,
    MemberChanged,
    MessageEdited,
    MessagePosted,
    ReactionCounts,
    TitleChanged,
)
from tally.contracts.chat_text import entity_counts, kept_text, word_count
from tally.contracts.telegram_export import ExportedMessage, SkippedMessage, user_id
from tally.infra.errors import UserFacingError

GROUP_TYPES: dict[str, ChatType] = {
    "private_group": "group",
    "private_supergroup": "supergroup",
    "public_supergroup": "supergroup",
}
"""Export chat types that are groups (others, channels and private chats, are refused)."""
JOINS = frozenset({"invite_members", "join_group_by_link", "join_group_by_request"})
SUPERGROUP_OFFSET = 1_000_000_000_000
"""A supergroup's Bot API id is ``-(SUPERGROUP_OFFSET + bare id)``, i.e. ``-100<id>``."""
SCALARS = frozenset({"string", "number", "boolean", "null"})
ACCOUNT = frozenset({"personal_information", "chats"})
"""Top-level keys of a whole-account export (refused: one group's export is wanted)."""


class ChatExportError(UserFacingError):
    """The file is not a Telegram Desktop export of one group chat."""


def read_header(stream: IO[bytes]) -> dict[str, Any]:
    """The top-level keys of the JSON in ``stream``: scalars with their value, the others
    (``messages``) with None. Reading stops at the first list or object once ``type`` and
    ``id`` are known (Telegram Desktop writes ``name``, ``type``, ``id``, then ``messages``),
    or at a whole-account export's ``personal_information`` or ``chats``. Raises
    ChatExportError when the file is not a JSON object with a ``messages`` list."""
    header: dict[str, Any] = {}
    key: str | None = None
    for prefix, event, value in _parsed(ijson.parse(stream)):
        if prefix == "" and event == "start_array":
            break
        if prefix == "" and event == "map_key":
            key = value
        elif key is not None and prefix == key:
            header[key], key = (value if event in SCALARS else None), None
            if event not in SCALARS and (
                ACCOUNT & header.keys() or {"type", "id"} <= header.keys()
            ):
                break
    if "messages" not in header and not ACCOUNT & header.keys():
        raise ChatExportError(
            'This is not a Telegram Desktop chat export: the JSON has no "messages" list.'
        )
    return header


def read_messages(stream: IO[bytes]) -> Iterator[Any]:
    """Each element of the top-level ``messages`` list, in file order. Raises
    ChatExportError on a JSON syntax error."""
    yield from _parsed(ijson.items(stream, "messages.item", use_float=True))


def _parsed(items: Iterator[Any]) -> Iterator[Any]:
    try:
        yield from items
    except (ijson.JSONError, UnicodeDecodeError) as error:
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ChatExportError(f"The export is not valid JSON ({detail}).") from None


@dataclass(frozen=True)
class ExportedChat:
    """The exported chat: its Bot API id, type and current title."""

    chat_id: int
    chat_type: ChatType
    title: str | None


def exported_chat(header: dict[str, Any]) -> ExportedChat:
    """The chat of an export's top-level ``name``, ``type`` and ``id``.

    Raises ChatExportError for a whole-account export, a chat that is not a group, or a
    missing or malformed id.
    """
    if "chats" in header or "personal_information" in header:
        raise ChatExportError(
            "This is a whole-account export; export the one group instead "
            "(the group's menu → Export chat history → format JSON)."
        )
    kind, bare = header.get("type"), header.get("id")
    if kind not in GROUP_TYPES:
        raise ChatExportError(
            f"This export is of a {kind or 'unknown'} chat, not a group: "
            "only groups and supergroups are imported."
        )
    if not isinstance(bare, int) or isinstance(bare, bool) or bare <= 0:
        raise ChatExportError(f"The export's chat id is {bare!r}, not a positive number.")
    chat_type = GROUP_TYPES[kind]
    chat_id = -(SUPERGROUP_OFFSET + bare) if chat_type == "supergroup" else -bare
    name = header.get("name")
    return ExportedChat(chat_id, chat_type, name[:256] if isinstance(name, str) and name else None)


@dataclass
class Directory:
    """What a first pass over the messages learns: user ids by display name (service
    messages name their members by name only) and the forum topics' root messages."""

    names: dict[str, set[int]] = field(default_factory=dict)
    topics: set[int] = field(default_factory=set)
    messages: int = 0

    def learn(self, raw: Any) -> None:
        """Note the names, ids and topics of one raw message (anything: bad ones are
        skipped later): its sender or actor, and the recent reactors of its reactions."""
        self.messages += 1
        if not isinstance(raw, dict):
            return
        self._name(raw, "from", "from_id")
        self._name(raw, "actor", "actor_id")
        for reaction in raw.get("reactions") or []:
            for recent in (reaction.get("recent") or []) if isinstance(reaction, dict) else []:
                self._name(recent, "from", "from_id")
        if raw.get("action") == "topic_created" and isinstance(raw.get("id"), int):
            self.topics.add(raw["id"])

    def _name(self, raw: Any, name_key: str, id_key: str) -> None:
        if not isinstance(raw, dict):
            return
        name, found = raw.get(name_key), user_id(_text_or_none(raw.get(id_key)))
        if isinstance(name, str) and name and found is not None:
            self.names.setdefault(name, set()).add(found)

    def user_named(self, name: str | None) -> int | None:
        """The one user id seen with display name ``name``; None when none or several."""
        ids = self.names.get(name or "", set())
        return next(iter(ids)) if len(ids) == 1 else None


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


@dataclass
class Tally:
    """What a conversion produced and left out, for the summary."""

    events: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    unknown_members: int = 0
    other_service: int = 0


@dataclass
class Converter:
    """Turns the messages of one export, in file order, into chat events.

    ``store_text``: whether message text travels (as the gateway decides from the chat's
    settings). Remembers each message's forum topic, so a reply lands in its message's topic.
    """

    chat: ExportedChat
    directory: Directory
    store_text: bool
    tally: Tally = field(default_factory=Tally)
    threads: dict[int, int] = field(default_factory=dict)

    def convert(self, raw: Any) -> list[ChatEvent]:
        """The events of one raw message ([] for a service message without any); a message
        that is malformed is counted in ``tally.skipped`` by reason and gives []."""
        try:
            message = ExportedMessage.model_validate(raw)
            events = self._events(message)
        except ValidationError as error:
            problem = error.errors()[0]
            where = ".".join(map(str, problem["loc"])) or "message"
            self.tally.skipped[f"{where}: {problem['msg']}"] += 1
            return []
        except SkippedMessage as skipped:
            self.tally.skipped[str(skipped)] += 1
            return []
        self.tally.events.update(event.kind for event in events)
        return events

    def _events(self, message: ExportedMessage) -> list[ChatEvent]:
        if message.type == "unsupported":
            raise SkippedMessage("unsupported by the exporting app")
        if message.type == "service":
            return self._service(message)
        return list(self._message(message))

    def _common(self, message: ExportedMessage, kind: str, at: datetime) -> dict[str, Any]:
        stamp = message.date_unixtime if message.date_unixtime is not None else int(at.timestamp())
        return {
            "event_id": f"export:{self.chat.chat_id}:{message.id}@{stamp}:{kind}",
            "chat_id": self.chat.chat_id,
            "chat_type": self.chat.chat_type,
            "chat_title": self.chat.title,
            "occurred_at": at,
        }

    def _message(self, message: ExportedMessage) -> Iterator[ChatEvent]:
        sent = message.sent_at()
        text = message.plain_text()
        links, mentions, hashtags = entity_counts(message.entity_kinds())
        thread, reply = self._place(message)
        yield MessagePosted(
            **self._common(message, "message", sent),
            message_id=message.id,
            thread_id=thread,
            sender=_user(message.from_id, message.sender),
            message_type=message.message_type(),
            text_length=len(text),
            word_count=word_count(text),
            reply_to_message_id=reply,
            forwarded=message.forwarded(),
            links=links,
            mentions=mentions,
            hashtags=hashtags,
            text=kept_text(text, self.store_text),
        )
        edited = message.edited_at()
        if edited is not None and edited >= sent:
            yield MessageEdited(
                **self._common(message, f"edit:{int(edited.timestamp())}", edited),
                message_id=message.id,
                sent_at=sent,
                text_length=len(text),
                word_count=word_count(text),
                text=kept_text(text, self.store_text),
            )
        counts = _reaction_counts(message)
        if counts:
            yield ReactionCounts(
                **self._common(message, f"reaction_count:{_digest(counts)}", sent),
                message_id=message.id,
                counts=counts,
            )

    def _place(self, message: ExportedMessage) -> tuple[int | None, int | None]:
        """(forum topic, replied message) as the gateway reports them: a message that only
        sits in a topic replies to the topic's root, which is no reply; a reply to another
        chat's message is none either."""
        target = message.reply_to_message_id
        if target is None or message.reply_to_peer_id is not None:
            return None, None
        thread: int | None = target
        reply: int | None = None
        if target not in self.directory.topics:
            thread, reply = self.threads.get(target), target
        if thread is not None:
            self.threads[message.id] = thread
        return thread, reply

    def _service(self, message: ExportedMessage) -> list[ChatEvent]:
        if message.action == "edit_group_title" and message.title:
            at = message.sent_at()
            common = {**self._common(message, "title", at), "chat_title": message.title[:256]}
            return [TitleChanged(**common, title=message.title[:256])]
        if message.action in JOINS or message.action == "remove_members":
            return list(self._members(message))
        self.tally.other_service += 1
        return []

    def _members(self, message: ExportedMessage) -> Iterator[MemberChanged]:
        at = message.sent_at()
        actor = _user(message.actor_id, message.actor)
        change: Literal["join", "leave"] = "leave" if message.action == "remove_members" else "join"
        for user in self._affected(message, actor):
            if user is None:
                self.tally.unknown_members += 1
                continue
            invited = message.action == "invite_members" and actor and actor.user_id != user.user_id
            yield MemberChanged(
                **self._common(message, f"member:{user.user_id}", at),
                user=user,
                change=change,
                inviter=actor if invited else None,
                via_link=message.action == "join_group_by_link",
            )

    def _affected(self, message: ExportedMessage, actor: ChatUser | None) -> list[ChatUser | None]:
        """Who joined or left: the actor for a join by link or request, else each member
        named, found by name (the actor when it is their own name)."""
        if message.action in {"join_group_by_link", "join_group_by_request"}:
            return [actor]
        users: list[ChatUser | None] = []
        for name in message.members:
            if actor is not None and name is not None and name == message.actor:
                users.append(actor)
                continue
            found = self.directory.user_named(name)
            users.append(_user(f"user{found}", name) if found is not None else None)
        return users


def _user(peer: str | None, name: str | None) -> ChatUser | None:
    """A user sender or actor (the display name as first name); None for a channel or the
    chat itself speaking, as the gateway has it for ``sender_chat``."""
    found = user_id(peer)
    if found is None:
        return None
    return ChatUser(user_id=found, first_name=name[:256] if name else None)


def _reaction_counts(message: ExportedMessage) -> dict[str, int]:
    """Totals by reaction key, as the gateway keys them: the emoji, ``custom:<id>``, ``paid``."""
    counts: dict[str, int] = {}
    for reaction in message.reactions:
        key = {
            "emoji": reaction.emoji,
            "custom_emoji": f"custom:{reaction.document_id}" if reaction.document_id else None,
            "paid": "paid",
        }.get(reaction.type)
        if key is not None and reaction.count:
            counts[key] = counts.get(key, 0) + reaction.count
    return counts


def _digest(counts: dict[str, int]) -> str:
    """12 hex digits of sha256 over ``counts`` (sorted): a later export's new totals get a
    new event id, which JetStream does not drop as a duplicate of the earlier ones."""
    text = json.dumps(sorted(counts.items()), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def convert_all(
    chat: ExportedChat, messages: Iterable[Any], *, store_text: bool
) -> tuple[list[ChatEvent], Tally]:
    """Every event of ``messages`` (both passes in memory: for tests and small exports)."""
    items = list(messages)
    directory = Directory()
    for raw in items:
        directory.learn(raw)
    converter = Converter(chat, directory, store_text)
    events = [event for raw in items for event in converter.convert(raw)]
    return events, converter.tally
