"""Group capture: the mapping of group updates to chat events, and the gateway publishing
them to the CHAT_EVENTS stream (real NATS, the fake Bot API)."""

import itertools
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import nats
import pytest
import structlog
from aiogram.types import ChatMemberRestricted, Message, Update
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry

from tally.contracts.chat_events import (
    CHAT_EVENT,
    ChatEvent,
    ChatSettings,
    MemberChanged,
    MessageEdited,
    MessagePosted,
    ReactionChanged,
    ReactionCounts,
    TitleChanged,
)
from tally.contracts.subjects import Subjects
from tally.gateway.app import Gateway
from tally.gateway.domain import capture
from tally.gateway.metrics import GatewayMetrics
from tally.gateway.telegram.chat_events import ChatEventPublisher
from tally.infra.settings import CommonSettings
from tally.testing.telegram import ContentType, FakeTelegram, Json
from tally.testing.waiting import until

_chats = itertools.count(-100_200_000_000, -1)
_fake = FakeTelegram()
"""Never started: it only builds update JSON for the mapping tests."""


@pytest.fixture
def chat_id() -> int:
    """A supergroup id no other test uses."""
    return next(_chats)


def _part(update: int | Json, field: str) -> Any:
    """The ``field`` object (message, chat_member...) of a pushed update (by id) or of update
    JSON, validated into its aiogram type."""
    data = _fake.update(update) if isinstance(update, int) else update
    part = getattr(Update.model_validate(data), field)
    assert part is not None
    return part


def _message(update: int | Json) -> Message:
    message: Message = _part(update, "message")
    return message


def _posted(update: int | Json, *, store_text: bool = False) -> MessagePosted:
    update_id = update if isinstance(update, int) else int(update["update_id"])
    event = capture.message_posted(_message(update), update_id=update_id, store_text=store_text)
    assert event is not None
    return event


def _entity(kind: str, offset: int, length: int, **extra: object) -> dict[str, object]:
    return {"type": kind, "offset": offset, "length": length, **extra}


# --- the mapping (pure) ---------------------------------------------------------------------


def test_text_message_counts_words_entities_and_keeps_text_only_when_allowed() -> None:
    """Length in characters, words with a letter or digit, links/mentions/hashtags by kind."""
    text = "Hi @ann, see https://x.io — #news #daily 👍"
    entities = [
        _entity("mention", 3, 4),
        _entity("url", 13, 12),
        _entity("text_link", 0, 2, url="https://y.io"),
        _entity("text_mention", 9, 3, user={"id": 5, "is_bot": False, "first_name": "Bo"}),
        _entity("hashtag", 28, 5),
        _entity("hashtag", 34, 6),
    ]
    update_id = _fake.push_group_message(-5, 42, text, entities=entities, message_id=7)

    hidden, shown = _posted(update_id), _posted(update_id, store_text=True)

    assert (hidden.event_id, hidden.chat_id, hidden.message_id) == (
        f"-5:u{update_id}:message",
        -5,
        7,
    )
    assert hidden.sender is not None and hidden.sender.user_id == 42
    assert (hidden.message_type, hidden.text_length, hidden.word_count) == ("text", len(text), 6)
    assert (hidden.links, hidden.mentions, hidden.hashtags) == (2, 2, 2)
    assert hidden.text is None
    assert shown.text == text
    assert hidden.occurred_at.tzinfo is not None
    assert (hidden.thread_id, hidden.reply_to_message_id, hidden.forwarded) == (None, None, False)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("photo", "photo"),
        ("video", "video"),
        ("video_note", "video_note"),
        ("voice", "voice"),
        ("audio", "audio"),
        ("document", "document"),
        ("sticker", "sticker"),
        ("animation", "animation"),
        ("poll", "poll"),
        ("location", "location"),
        ("contact", "contact"),
        ("dice", "other"),
    ],
)
def test_message_type_follows_the_content(content: ContentType, expected: str) -> None:
    """Each content has its type; content without a type of its own is ``other``."""
    update_id = _fake.push_group_message(-5, 42, None, content_type=content)

    event = _posted(update_id)

    assert (event.message_type, event.text_length, event.word_count) == (expected, 0, 0)


def test_a_caption_counts_as_the_text() -> None:
    """A photo's caption gives the length, words, entities and (when allowed) text."""
    caption = "Look #cats"
    update_id = _fake.push_group_message(
        -5, 42, caption, content_type="photo", entities=[_entity("hashtag", 5, 5)]
    )

    event = _posted(update_id, store_text=True)

    assert (event.message_type, event.text_length, event.word_count) == ("photo", 10, 2)
    assert (event.hashtags, event.text) == (1, caption)


def test_forum_topic_message_is_in_its_thread_and_not_a_reply() -> None:
    """In a topic, Telegram's reply to the topic's first message is not a reply."""
    in_topic = _posted(_fake.push_group_message(-5, 42, "hi", thread_id=12))
    reply_in_topic = _posted(_fake.push_group_message(-5, 42, "yes", thread_id=12, reply_to=30))
    plain_reply = _posted(_fake.push_group_message(-5, 42, "no", reply_to=31))

    assert (in_topic.thread_id, in_topic.reply_to_message_id) == (12, None)
    assert (reply_in_topic.thread_id, reply_in_topic.reply_to_message_id) == (12, 30)
    assert (plain_reply.thread_id, plain_reply.reply_to_message_id) == (None, 31)


def test_forwarded_and_anonymous_messages() -> None:
    """``forward_origin`` marks a forward; a message sent as a chat has no sender."""
    forwarded = _posted(_fake.push_group_message(-5, 42, "fwd", forwarded=True))
    data = _fake.update(_fake.push_group_message(-5, 42, "anon"))
    data["message"]["sender_chat"] = data["message"]["chat"]
    anonymous = _posted(data)

    assert forwarded.forwarded
    assert anonymous.sender is None


def test_a_basic_group_is_a_group() -> None:
    """The chat type comes from the chat (a basic group is ``group``)."""
    event = _posted(_fake.push_group_message(-5, 42, "hi", chat_type="group"))

    assert (event.chat_type, event.chat_title) == ("group", "Chat-5")


def test_service_messages_are_not_messages_posted() -> None:
    """A service message (here a removed chat photo) yields no MessagePosted."""
    data = _fake.update(_fake.push_group_message(-5, 42, None))
    data["message"]["delete_chat_photo"] = True

    assert capture.message_posted(_message(data), update_id=1, store_text=True) is None


def test_edit_has_its_times_counts_and_text_only_when_allowed() -> None:
    """Sent at the message's date, occurred at its edit date."""
    update_id = _fake.push_edit(-5, 42, 9, "now three words", sent_at=1_700_000_000)
    message = _part(update_id, "edited_message")

    hidden = capture.message_edited(message, update_id=update_id, store_text=False)
    shown = capture.message_edited(message, update_id=update_id, store_text=True)

    assert isinstance(hidden, MessageEdited)
    assert (hidden.event_id, hidden.message_id) == (f"-5:u{update_id}:edit", 9)
    assert hidden.sent_at == datetime.fromtimestamp(1_700_000_000, UTC)
    assert hidden.occurred_at > hidden.sent_at
    assert (hidden.text_length, hidden.word_count, hidden.text) == (15, 3, None)
    assert shown.text == "now three words"


def test_reactions_name_emoji_and_custom_emoji() -> None:
    """Old and new reactions as emoji or ``custom:<id>``; an anonymous one has no user."""
    named = _fake.push_reaction(-5, 42, 9, old=["👍"], new=["🔥", "custom:77"])
    anonymous = _fake.push_reaction(-5, None, 9, new=["👍"])

    event = capture.reaction_changed(_part(named, "message_reaction"), update_id=named)
    nobody = capture.reaction_changed(_part(anonymous, "message_reaction"), update_id=anonymous)

    assert isinstance(event, ReactionChanged)
    assert (event.event_id, event.message_id) == (f"-5:u{named}:reaction", 9)
    assert event.user is not None and event.user.user_id == 42
    assert (event.old, event.new) == (("👍",), ("🔥", "custom:77"))
    assert nobody.user is None


def test_reaction_counts_are_totals_per_reaction() -> None:
    """``message_reaction_count`` gives each reaction's total."""
    update_id = _fake.push_reaction_count(-5, 9, {"👍": 3, "custom:77": 1})

    event = capture.reaction_counts(_part(update_id, "message_reaction_count"), update_id=update_id)

    assert isinstance(event, ReactionCounts)
    assert event.event_id == f"-5:u{update_id}:reaction_count"
    assert event.counts == {"👍": 3, "custom:77": 1}


def _member(update: int | Json) -> MemberChanged | None:
    update_id = update if isinstance(update, int) else int(update["update_id"])
    return capture.member_changed(_part(update, "chat_member"), update_id=update_id)


def test_chat_member_joins_and_leaves() -> None:
    """A join names who added the member and whether a link was used; a leave names nobody."""
    added = _member(_fake.push_member(-5, 42, "join", inviter=7))
    by_link = _member(_fake.push_member(-5, 43, "join", via_link=True))
    left = _member(_fake.push_member(-5, 42, "leave", inviter=7))

    assert added is not None and added.change == "join"
    assert added.inviter is not None and added.inviter.user_id == 7 and not added.via_link
    assert by_link is not None and by_link.inviter is None and by_link.via_link
    assert left is not None and (left.change, left.inviter, left.user.user_id) == (
        "leave",
        None,
        42,
    )


def test_other_membership_changes_are_not_events() -> None:
    """A promotion keeps the user in: no event. A restricted member who is removed leaves."""
    promoted_id = _fake.push_member(-5, 42, "join")
    promoted = _fake.update(promoted_id)
    promoted["chat_member"]["old_chat_member"]["status"] = "member"
    promoted["chat_member"]["new_chat_member"] = {
        "status": "creator",
        "user": promoted["chat_member"]["new_chat_member"]["user"],
        "is_anonymous": False,
    }
    restricted = _fake.update(_fake.push_member(-5, 42, "leave"))
    restricted["chat_member"]["new_chat_member"] = _restricted(is_member=False)

    assert _member(promoted) is None
    leave = _member(restricted)
    assert leave is not None and leave.change == "leave"


_RESTRICTIONS = [name for name in ChatMemberRestricted.model_fields if name.startswith("can_")]


def _restricted(*, is_member: bool) -> Json:
    user = {"id": 42, "is_bot": False, "first_name": "User42"}
    member: Json = {"status": "restricted", "user": user, "is_member": is_member}
    return member | {"until_date": 0} | dict.fromkeys(_RESTRICTIONS, False)


def test_service_messages_give_one_member_event_per_user() -> None:
    """Two users added at once are two joins (ids carry the user); a self-join has no inviter."""
    added = _fake.push_join_message(-5, [42, 43], by=7)
    self_join = _fake.push_join_message(-5, [44])
    left = _fake.push_leave_message(-5, 42, by=7)

    joins = capture.members_from_message(_message(added), update_id=added)
    [alone] = capture.members_from_message(_message(self_join), update_id=self_join)
    [leave] = capture.members_from_message(_message(left), update_id=left)

    assert [event.event_id for event in joins] == [
        f"-5:u{added}:member:42",
        f"-5:u{added}:member:43",
    ]
    assert all(e.inviter is not None and e.inviter.user_id == 7 for e in joins)
    assert (alone.change, alone.inviter) == ("join", None)
    assert (leave.change, leave.inviter, leave.user.user_id) == ("leave", None, 42)
    text = _message(_fake.push_group_message(-5, 1, "x"))
    assert capture.members_from_message(text, update_id=1) == []


def test_title_change() -> None:
    """A new title is a TitleChanged; any other message is not."""
    update_id = _fake.push_title(-5, 42, "Weekend plans")

    event = capture.title_changed(_message(update_id), update_id=update_id)

    assert isinstance(event, TitleChanged)
    assert (event.event_id, event.title) == (f"-5:u{update_id}:title", "Weekend plans")
    text = _message(_fake.push_group_message(-5, 1, "x"))
    assert capture.title_changed(text, update_id=1) is None


@pytest.mark.parametrize(
    ("text", "words"),
    [("", 0), ("one", 1), ("  two   words ", 2), ("a — b", 2), ("👍 🔥", 0), ("сколько видео?", 2)],
)
def test_word_count(text: str, words: int) -> None:
    """Whitespace-separated tokens holding a letter or digit."""
    assert capture.word_count(text) == words


# --- the gateway publishing to JetStream ----------------------------------------------------


@pytest.fixture
async def js(settings: CommonSettings) -> AsyncIterator[JetStreamContext]:
    connection = await nats.connect(settings.nats_url)
    yield connection.jetstream()
    await connection.drain()


async def read_chat(
    js: JetStreamContext, subjects: Subjects, chat_id: int, count: int, *, settle: float = 0.0
) -> list[Msg]:
    """The first ``count`` events of ``chat_id`` in the stream (waiting up to 5 s for them);
    with ``settle``, fails when another arrives within ``settle`` seconds."""
    sub = await js.pull_subscribe(
        subjects.chat_event(chat_id, "*"), stream=subjects.chat_events_stream
    )
    messages: list[Msg] = []
    deadline = time.monotonic() + 5
    while len(messages) < count and time.monotonic() < deadline:
        try:
            messages += await sub.fetch(count - len(messages), timeout=0.5)
        except nats.errors.TimeoutError:
            continue
    assert len(messages) == count, f"{len(messages)} of {count} events: {messages}"
    if settle:
        with pytest.raises(nats.errors.TimeoutError):
            extra = await sub.fetch(1, timeout=settle)
            pytest.fail(f"unexpected event: {extra}")
    await sub.unsubscribe()
    return messages


def _event(message: Msg) -> ChatEvent:
    return CHAT_EVENT.validate_json(message.data)


def _text(message: Msg) -> tuple[int, str | None]:
    """(text length, text) of a MessagePosted in the stream."""
    event = _event(message)
    assert isinstance(event, MessagePosted)
    return event.text_length, event.text


def _published(gateway: Gateway, kind: str) -> float:
    labels = {"kind": kind, "outcome": "published"}
    return gateway.registry.get_sample_value("tally_gateway_chat_events_total", labels) or 0.0


integration = pytest.mark.usefixtures("streams", "gateway")


@integration
async def test_polling_asks_for_every_captured_update(telegram: FakeTelegram) -> None:
    """getUpdates names chat_member and the reaction updates, which Telegram sends only then."""
    wanted = {
        "message",
        "edited_message",
        "message_reaction",
        "message_reaction_count",
        "chat_member",
        "callback_query",
    }
    await until(lambda: telegram.allowed_updates is not None, what="a getUpdates call")

    assert wanted <= set(telegram.allowed_updates or ())


@integration
async def test_every_kind_reaches_the_stream_with_its_message_id(
    telegram: FakeTelegram,
    js: JetStreamContext,
    subjects: Subjects,
    chat_id: int,
    spans: InMemorySpanExporter,
) -> None:
    """Message, edit, reaction, reaction count, member and title: one event each, on the chat's
    subject for its kind, with ``Nats-Msg-Id`` = its event id and the capture's trace."""
    update_ids = {
        "message": telegram.push_group_message(chat_id, 42, "hello there", message_id=5),
        "edit": telegram.push_edit(chat_id, 42, 5, "hello again"),
        "reaction": telegram.push_reaction(chat_id, 43, 5, new=["👍"]),
        "reaction_count": telegram.push_reaction_count(chat_id, 5, {"👍": 2}),
        "member": telegram.push_member(chat_id, 44, "join", inviter=42),
        "title": telegram.push_title(chat_id, 42, "Renamed"),
    }

    messages = await read_chat(js, subjects, chat_id, len(update_ids), settle=0.3)

    by_kind = {_event(message).kind: message for message in messages}
    assert set(by_kind) == set(update_ids)
    for kind, message in by_kind.items():
        assert message.subject == subjects.chat_event(chat_id, kind)
        assert message.headers is not None
        assert message.headers["Nats-Msg-Id"] == f"{chat_id}:u{update_ids[kind]}:{kind}"
    posted = _event(by_kind["message"])
    assert isinstance(posted, MessagePosted)
    assert (posted.message_id, posted.word_count, posted.text) == (5, 2, None)
    capture_traces = {
        format(span.context.trace_id, "032x")
        for span in spans.get_finished_spans()
        if span.name == "telegram capture"
    }
    headers = by_kind["title"].headers or {}
    assert headers["traceparent"].split("-")[1] in capture_traces


@integration
async def test_an_update_delivered_again_is_stored_once(
    telegram: FakeTelegram,
    gateway: Gateway,
    js: JetStreamContext,
    subjects: Subjects,
    chat_id: int,
) -> None:
    """After a restart Telegram hands over the same update: JetStream drops the duplicate."""
    update_id = telegram.push_group_message(chat_id, 42, "only once")
    await read_chat(js, subjects, chat_id, 1)
    published = _published(gateway, "message")

    await gateway.stop_polling()
    telegram.redeliver(update_id)
    await gateway.start_polling()
    await until(
        lambda: _published(gateway, "message") == published + 1, what="the message published"
    )

    [message] = await read_chat(js, subjects, chat_id, 1, settle=0.3)
    assert (message.headers or {})["Nats-Msg-Id"] == f"{chat_id}:u{update_id}:message"


@integration
async def test_text_travels_only_while_the_chat_allows_it(
    telegram: FakeTelegram,
    gateway: Gateway,
    js: JetStreamContext,
    subjects: Subjects,
    chat_id: int,
) -> None:
    """No settings: no text. ``store_text`` set by ingest in the bucket: text. Deleted: none."""
    bucket = await js.key_value(subjects.chat_settings_bucket)
    telegram.push_group_message(chat_id, 42, "secret one", message_id=1)
    [before] = await read_chat(js, subjects, chat_id, 1)

    await bucket.put(str(chat_id), ChatSettings(store_text=True).model_dump_json().encode())
    await until(lambda: gateway.context.chat_settings.store_text(chat_id), what="store_text on")
    telegram.push_group_message(chat_id, 42, "open two", message_id=2)
    [_, allowed] = await read_chat(js, subjects, chat_id, 2)

    await bucket.delete(str(chat_id))
    await until(
        lambda: not gateway.context.chat_settings.store_text(chat_id), what="store_text off"
    )
    telegram.push_group_message(chat_id, 42, "secret three", message_id=3)
    [*_, after] = await read_chat(js, subjects, chat_id, 3)

    texts = [_text(message) for message in (before, allowed, after)]
    assert texts == [(10, None), (8, "open two"), (12, None)]


@integration
async def test_a_burst_in_a_group_is_captured_whole_and_unanswered(
    telegram: FakeTelegram, js: JetStreamContext, subjects: Subjects, chat_id: int
) -> None:
    """Throttling is for private questions: five quick group messages are five events, and the
    bot says nothing in the group."""
    for number in range(5):
        telegram.push_group_message(chat_id, 42, f"message {number}")

    messages = await read_chat(js, subjects, chat_id, 5, settle=0.2)

    assert [_text(message) for message in messages] == [(9, None)] * 5
    await telegram.assert_nothing_sent(within=0.1, chat_id=chat_id)


@integration
async def test_a_private_message_is_still_answered(telegram: FakeTelegram, user_id: int) -> None:
    """The private flow is untouched: /help in a private chat gets the help text."""
    telegram.push_message(user_id, user_id, "/help")

    [reply] = await telegram.wait_sent(chat_id=user_id)

    assert "Tally" in reply.text


@integration
async def test_joins_come_from_service_messages_where_the_bot_is_no_admin(
    telegram: FakeTelegram, js: JetStreamContext, subjects: Subjects, chat_id: int
) -> None:
    """Without admin rights only the service message tells: it is published."""
    update_id = telegram.push_join_message(chat_id, [50, 51], by=42)

    messages = await read_chat(js, subjects, chat_id, 2, settle=0.3)

    assert sorted((m.headers or {})["Nats-Msg-Id"] for m in messages) == [
        f"{chat_id}:u{update_id}:member:50",
        f"{chat_id}:u{update_id}:member:51",
    ]


@integration
async def test_chat_member_wins_over_the_service_message_where_the_bot_is_admin(
    telegram: FakeTelegram, js: JetStreamContext, subjects: Subjects, chat_id: int
) -> None:
    """An admin bot gets both; the join is published once, from chat_member."""
    telegram.set_bot_status(chat_id, "administrator")
    telegram.push_join_message(chat_id, [52], by=42)
    update_id = telegram.push_member(chat_id, 52, "join", inviter=42)

    [message] = await read_chat(js, subjects, chat_id, 1, settle=0.5)

    event = _event(message)
    assert isinstance(event, MemberChanged)
    assert (event.event_id, event.change) == (f"{chat_id}:u{update_id}:member", "join")
    assert event.user.user_id == 52
    assert event.inviter is not None and event.inviter.user_id == 42


@integration
async def test_a_promotion_switches_member_capture_to_chat_member(
    telegram: FakeTelegram, js: JetStreamContext, subjects: Subjects, chat_id: int
) -> None:
    """my_chat_member says the bot became admin: later service messages are left to
    chat_member."""
    telegram.push_leave_message(chat_id, 53)
    await read_chat(js, subjects, chat_id, 1)

    telegram.push_bot_status(chat_id, "administrator")
    telegram.push_leave_message(chat_id, 54)
    await read_chat(js, subjects, chat_id, 1, settle=0.5)
    update_id = telegram.push_member(chat_id, 54, "leave")

    messages = await read_chat(js, subjects, chat_id, 2, settle=0.3)
    assert (messages[1].headers or {})["Nats-Msg-Id"] == f"{chat_id}:u{update_id}:member"


async def test_a_publish_that_keeps_failing_is_logged_and_counted(
    settings: CommonSettings, gateway: Gateway
) -> None:
    """No stream takes the subject: after the retries, an error log and a ``failed`` count."""
    registry = CollectorRegistry()
    metrics = GatewayMetrics(registry)
    publisher = ChatEventPublisher(gateway.broker, Subjects("nostream"), metrics, retry_for_s=1)
    event = _posted(_fake.push_group_message(-5, 42, "lost"))

    with structlog.testing.capture_logs() as logs:
        await publisher.publish([event], update_id=1)

    labels = {"kind": "message", "outcome": "failed"}
    assert registry.get_sample_value("tally_gateway_chat_events_total", labels) == 1
    errors = [log for log in logs if log["log_level"] == "error"]
    assert [log["event_id"] for log in errors] == [event.event_id]
