"""Plan the writes of one batch of chat events: pure functions, no database, no broker.

A batch is planned in stream order, and each event sees the chat's settings as the events
before it left them: a SettingsChanged applies to the events after it, even within one
batch. So the rows written do not depend on where batch boundaries fall, and live ingest and
a replay with another batch size write the same tables.

Rows are plain dicts keyed by column name. Times are normalised to UTC. A message counts in
the rollups on the local calendar day of ``sent_at`` in the chat's time zone (an IANA name,
``chats.timezone``) and in the UTC hour of ``sent_at``.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, Final, cast, get_args
from uuid import NAMESPACE_URL, uuid5
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ConfigDict, TypeAdapter, ValidationError

from tally.chatstore.tables import Row
from tally.contracts.chat_events import (
    ChatEvent,
    ChatSettings,
    ChatUser,
    MemberChanged,
    MemberCountObserved,
    MessageEdited,
    MessagePosted,
    MessagesDeleted,
    ReactionChanged,
    ReactionCounts,
    SettingsChanged,
    TitleChanged,
)
from tally.contracts.subjects import Subjects

MessageKey = tuple[int, int, datetime]
"""(chat_id, message_id, sent_at UTC): the primary key of ``messages``."""
ReactionKey = tuple[int, int, int]
"""(chat_id, message_id, user_id): one user's reactions to one message."""
_VALIDATE_JSON: Final = TypeAdapter(
    ChatEvent, config=ConfigDict(cache_strings=False)
).validator.validate_json
"""``CHAT_EVENT.validate_json`` (the same schema) without TypeAdapter's Python wrapper or
jiter's string cache (an event's strings are mostly ids and times, seen once): 0.6 µs of
5.9 less per event (issue 17; one validation of a whole fetch as a list cost 0.7 more)."""


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; raises ZoneInfoNotFoundError (a KeyError) or ValueError."""
    return ZoneInfo(name)


def local_day(moment: datetime, zone_name: str) -> date:
    """The calendar day of ``moment`` in the time zone ``zone_name`` (DST included)."""
    return moment.astimezone(zone(zone_name)).date()


def utc_hour(moment: datetime) -> datetime:
    """``moment`` truncated to its hour, in UTC."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def invalid_reason(event: ChatEvent) -> str | None:
    """Why a schema-valid event still cannot be stored (an unknown time zone), else None."""
    if isinstance(event, SettingsChanged):
        try:
            zone(event.settings.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            return f"settings.timezone: unknown time zone {event.settings.timezone!r}"
    return None


def misrouted(event: ChatEvent, subject: str, subjects: Subjects) -> str | None:
    """Why ``event`` cannot have come on ``subject``, else None: an event is believed only on
    its own chat's subject of its own kind (``{p}.chats.{chat_id}.{kind}``), since who may
    publish which kind is what the bus's permissions decide (tally.contracts.access)."""
    expected = subjects.chat_event(event.chat_id, event.kind)
    return (
        None
        if subject == expected
        else f"a {event.kind} event of chat {event.chat_id} on {subject}"
    )


def parse_chat_event(subject: str, body: bytes, subjects: Subjects) -> ChatEvent | str:
    """The chat event in ``body`` (a message on ``subject``), or why it is not one that can
    be stored: not a chat event, one that cannot be stored, or one that came on another
    subject than its own (see :func:`misrouted`)."""
    try:
        event: ChatEvent = _VALIDATE_JSON(body)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(map(str, problem["loc"])) or "body"
        return f"invalid chat event: {where}: {problem['msg']}"
    if reason := invalid_reason(event) or misrouted(event, subject, subjects):
        return f"invalid chat event: {reason}"
    return event


def split_parsed(
    parsed: Sequence[ChatEvent | str],
) -> tuple[list[tuple[int, ChatEvent]], list[tuple[int, str]]]:
    """What :func:`parse_chat_event` made of each message of one batch -> ((index, event) for
    the valid ones, in order; (index, reason) for the others)."""
    valid: list[tuple[int, ChatEvent]] = []
    invalid: list[tuple[int, str]] = []
    for index, outcome in enumerate(parsed):
        if isinstance(outcome, str):
            invalid.append((index, outcome))
        else:
            valid.append((index, outcome))
    return valid, invalid


def parse_chat_events(
    messages: Sequence[tuple[str, bytes]], subjects: Subjects
) -> tuple[list[tuple[int, ChatEvent]], list[tuple[int, str]]]:
    """(subject, body) of each message of one batch -> ((index, event) for the valid ones,
    in order; (index, reason) for the others, see :func:`parse_chat_event`). One bad
    message does not sink the batch."""
    return split_parsed([parse_chat_event(subject, body, subjects) for subject, body in messages])


@dataclass(frozen=True, slots=True)
class ChatState:
    """What planning needs of a chat's settings."""

    timezone: str = "UTC"
    store_text: bool = False


DEFAULT_STATE = ChatState()
"""A chat not stored yet: UTC, no text."""


@dataclass(frozen=True, slots=True)
class Edit:
    """The latest edit of a message in a batch, and the chat's zone when it came."""

    key: MessageKey
    text_length: int
    word_count: int
    text: str | None
    edited_at: datetime
    zone: str


@dataclass(frozen=True, slots=True)
class ReactionEvent:
    """One user's reactions to a message replaced by ``emojis`` at ``at``."""

    key: ReactionKey
    emojis: tuple[str, ...]
    at: datetime
    zone: str


@dataclass(frozen=True, slots=True)
class CountsReport:
    """A message's anonymous reaction totals, as reported at ``at``."""

    chat_id: int
    message_id: int
    counts: dict[str, int]
    at: datetime
    zone: str = "UTC"


@dataclass
class BatchPlan:
    """Everything one batch writes, deduplicated, before the database says what was new.

    ``messages``: rows of :data:`~tally.chatstore.write.rollup_statements.MESSAGE_COLUMNS`, with
    the local day and hour (0-23) each new message would count on (``local_day``,
    ``local_hour``); ``member_days``: the local day each new member event would count on.
    ``member_counts``: per (chat, local day), the day's latest member count snapshot.
    ``text_off``: chats that stored text before or during the batch and no longer do at its
    end (their stored text is erased), each with the index of its last SettingsChanged.
    ``text_dropped``: indexes (in the batch) of events that carried text the chat's settings
    did not let ingest store. ``audits``: an ``admin_audit`` row for each settings change a
    chat admin made (``SettingsChanged.changed_by``), its id derived from the event id so a
    redelivered event is stored once.
    """

    chats: dict[int, Row] = field(default_factory=dict)
    settings: dict[int, ChatSettings] = field(default_factory=dict)
    users: dict[int, Row] = field(default_factory=dict)
    messages: dict[MessageKey, Row] = field(default_factory=dict)
    edits: dict[MessageKey, Edit] = field(default_factory=dict)
    deletions: dict[tuple[int, int], datetime] = field(default_factory=dict)
    members: dict[str, Row] = field(default_factory=dict)
    member_days: dict[str, date] = field(default_factory=dict)
    reactions: list[ReactionEvent] = field(default_factory=list)
    reaction_counts: dict[tuple[int, int], CountsReport] = field(default_factory=dict)
    member_counts: dict[tuple[int, date], Row] = field(default_factory=dict)
    text_off: dict[int, int] = field(default_factory=dict)
    text_dropped: list[int] = field(default_factory=list)
    audits: list[Row] = field(default_factory=list)


def plan_batch(events: Iterable[ChatEvent], states: dict[int, ChatState]) -> BatchPlan:
    """The writes of ``events`` (in stream order), given each known chat's settings
    (``states``; a chat not in it has the defaults: UTC, no text)."""
    plan = BatchPlan()
    current = dict(states)
    stored_text: set[int] = set()
    changed: dict[int, int] = {}
    for index, event in enumerate(events):
        at = event.occurred_at.astimezone(UTC)
        _chat(plan, event, at)
        state = current.get(event.chat_id, DEFAULT_STATE)
        if state.store_text:
            stored_text.add(event.chat_id)
        if type(event) is SettingsChanged:  # not isinstance: pydantic's is in Python (ABCMeta)
            plan.settings[event.chat_id] = event.settings
            current[event.chat_id] = ChatState(event.settings.timezone, event.settings.store_text)
            changed[event.chat_id] = index
            _audit(plan, event, at)
            continue
        kind = type(event)
        _EVENTS[kind](plan, event, at, state)
        if kind in _TEXTS and not state.store_text and cast(_Texted, event).text is not None:
            plan.text_dropped.append(index)
    plan.text_off = {
        chat_id: index
        for chat_id, index in changed.items()
        if chat_id in stored_text and not current[chat_id].store_text
    }
    return plan


def _audit(plan: BatchPlan, event: SettingsChanged, at: datetime) -> None:
    """The audit row of a settings change a chat admin made (none for the operator's)."""
    if event.changed_by is None:
        return
    plan.audits.append(
        {
            "id": uuid5(NAMESPACE_URL, f"tally:chat-event:{event.event_id}"),
            "at": at,
            "user_id": event.changed_by,
            "chat_id": event.chat_id,
            "command": "settings",
            "allowed": True,
            "detail": event.settings.model_dump_json(exclude={"version"}),
        }
    )


def _chat(plan: BatchPlan, event: ChatEvent, at: datetime) -> None:
    title = event.title if type(event) is TitleChanged else event.chat_title
    row = plan.chats.get(event.chat_id)
    if row is None:
        plan.chats[event.chat_id] = {
            "chat_id": event.chat_id,
            "chat_type": event.chat_type,
            "title": title,
            "first_seen_at": at,
            "updated_at": at,
        }
        return
    row["chat_type"] = event.chat_type
    row["title"] = title if title is not None else row["title"]
    if at < row["first_seen_at"]:
        row["first_seen_at"] = at
    if at > row["updated_at"]:
        row["updated_at"] = at


def _user(plan: BatchPlan, user: ChatUser | None, at: datetime) -> None:
    if user is None:
        return
    row = plan.users.get(user.user_id)
    if row is None:
        row = plan.users[user.user_id] = {"user_id": user.user_id, "first_seen_at": at}
    elif at < row["last_seen_at"]:
        row["first_seen_at"] = min(row["first_seen_at"], at)
        return
    row["username"], row["first_name"] = user.username, user.first_name
    row["last_name"], row["is_bot"], row["last_seen_at"] = user.last_name, user.is_bot, at


def _edited(plan: BatchPlan, event: MessageEdited, at: datetime, state: ChatState) -> None:
    edited = (event.chat_id, event.message_id, event.sent_at.astimezone(UTC))
    text = event.text if state.store_text else None
    plan.edits[edited] = Edit(edited, event.text_length, event.word_count, text, at, state.timezone)


def _deleted(plan: BatchPlan, event: MessagesDeleted, at: datetime, _: ChatState) -> None:
    for message_id in event.message_ids:
        plan.deletions.setdefault((event.chat_id, message_id), at)


def _reacted(plan: BatchPlan, event: ReactionChanged, at: datetime, state: ChatState) -> None:
    if event.user is None:
        return
    _user(plan, event.user, at)
    reacted = (event.chat_id, event.message_id, event.user.user_id)
    plan.reactions.append(ReactionEvent(reacted, event.new, at, state.timezone))


def _counted(plan: BatchPlan, event: ReactionCounts, at: datetime, state: ChatState) -> None:
    counts = dict(event.counts)
    report = CountsReport(event.chat_id, event.message_id, counts, at, state.timezone)
    plan.reaction_counts[(event.chat_id, event.message_id)] = report


def _ignored(plan: BatchPlan, event: ChatEvent, at: datetime, state: ChatState) -> None:
    """A TitleChanged: :func:`_chat` took its title."""


def _posted(plan: BatchPlan, event: MessagePosted, at: datetime, state: ChatState) -> None:
    _user(plan, event.sender, at)
    key = (event.chat_id, event.message_id, at)
    if key in plan.messages:
        return
    local = at.astimezone(zone(state.timezone))  # its local day and hour, converted once
    plan.messages[key] = {
        "chat_id": event.chat_id,
        "message_id": event.message_id,
        "sent_at": at,
        "thread_id": event.thread_id,
        "user_id": event.sender.user_id if event.sender else None,
        "message_type": event.message_type,
        "text_length": event.text_length,
        "word_count": event.word_count,
        "reply_to_message_id": event.reply_to_message_id,
        "forwarded": event.forwarded,
        "links": event.links,
        "mentions": event.mentions,
        "hashtags": event.hashtags,
        "text": event.text if state.store_text else None,
        "reply_to_user_id": None,
        "reply_delay_s": None,
        "local_day": local.date(),
        "local_hour": local.hour,
    }


Original = tuple[datetime, int | None]
"""A message a reply may answer: when it was sent (UTC) and its author (None: anonymous)."""


def resolve_replies(plan: BatchPlan, stored: dict[tuple[int, int], list[Original]]) -> None:
    """Fill ``reply_to_user_id`` and ``reply_delay_s`` (seconds) of each reply of ``plan``
    whose original is found: the latest message of the same chat with the id it answers,
    sent no later than the reply, among ``stored`` ones (in the table, keyed by chat and
    message id) and those earlier in the batch. Not found: both stay None."""
    earlier: dict[tuple[int, int], list[Original]] = {}
    for (chat_id, message_id, sent_at), row in plan.messages.items():
        answered = row["reply_to_message_id"]
        if answered is not None:
            found = [
                original
                for original in (
                    *stored.get((chat_id, answered), ()),
                    *earlier.get((chat_id, answered), ()),
                )
                if original[0] <= sent_at
            ]
            if found:
                original_at, author = max(found, key=lambda original: original[0])
                row["reply_to_user_id"] = author
                row["reply_delay_s"] = (sent_at - original_at).total_seconds()
        earlier.setdefault((chat_id, message_id), []).append((sent_at, row["user_id"]))


def _member(plan: BatchPlan, event: MemberChanged, at: datetime, state: ChatState) -> None:
    _user(plan, event.user, at)
    _user(plan, event.inviter, at)
    plan.members.setdefault(
        event.event_id,
        {
            "event_id": event.event_id,
            "chat_id": event.chat_id,
            "user_id": event.user.user_id,
            "change": event.change,
            "inviter_id": event.inviter.user_id if event.inviter else None,
            "via_link": event.via_link,
            "occurred_at": at,
        },
    )
    plan.member_days.setdefault(event.event_id, local_day(at, state.timezone))


def _member_count(
    plan: BatchPlan, event: MemberCountObserved, at: datetime, state: ChatState
) -> None:
    """Keep the latest snapshot of the chat's local day (of two taken at the same instant,
    the later in the stream, as the upsert does)."""
    key = (event.chat_id, local_day(at, state.timezone))
    kept = plan.member_counts.get(key)
    if kept is None or at >= kept["observed_at"]:
        plan.member_counts[key] = {
            "chat_id": event.chat_id,
            "day": key[1],
            "count": event.count,
            "observed_at": at,
        }


_EVENTS: dict[type[Any], Callable[[BatchPlan, Any, datetime, ChatState], None]] = {
    MessagePosted: _posted,
    MessageEdited: _edited,
    MessagesDeleted: _deleted,
    ReactionChanged: _reacted,
    ReactionCounts: _counted,
    MemberChanged: _member,
    MemberCountObserved: _member_count,
    TitleChanged: _ignored,
}
"""What each kind of event (but SettingsChanged) plans, by its class (a dict lookup: a chain
of isinstance checks on pydantic models was ~3 % of the writer's CPU, issue 17)."""
_Texted = MessagePosted | MessageEdited
_TEXTS = frozenset(get_args(_Texted))
"""The kinds of events that carry a message's text (:data:`_Texted`)."""
