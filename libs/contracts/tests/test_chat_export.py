"""A Telegram Desktop chat export as chat events (`tally import-chat`, an export sent to the
bot), in memory."""

import io
import json
from collections import Counter
from typing import Any

import pytest

from tally.contracts.chat_events import (
    ChatEvent,
    MemberChanged,
    MessageEdited,
    MessagePosted,
    ReactionCounts,
    TitleChanged,
)
from tally.contracts.chat_export import (
    ChatExportError,
    ExportedChat,
    Tally,
    convert_all,
    exported_chat,
    read_header,
    read_messages,
)
from tests.factories.chat_exports import ExportBuilder, forum_export, reaction

BARE = 1_777_000_001
CHAT = -1_001_777_000_001


def _convert(builder: ExportBuilder, *, store_text: bool = False) -> tuple[list[ChatEvent], Tally]:
    return convert_all(exported_chat(builder.header), builder.messages, store_text=store_text)


def _posted(events: list[ChatEvent]) -> dict[int, MessagePosted]:
    return {e.message_id: e for e in events if isinstance(e, MessagePosted)}


def _members(events: list[ChatEvent]) -> list[tuple[int, str, int | None, bool]]:
    return [
        (e.user.user_id, e.change, e.inviter.user_id if e.inviter else None, e.via_link)
        for e in events
        if isinstance(e, MemberChanged)
    ]


def test_a_supergroup_gets_its_bot_api_id_and_a_basic_group_its_own() -> None:
    """A supergroup's bare id becomes -100<id>, a basic group's -<id>; the name is the title."""
    assert exported_chat(ExportBuilder(BARE).header) == ExportedChat(
        CHAT, "supergroup", "Hiking Club"
    )
    group = ExportBuilder(4321, "Old Friends", kind="private_group").header
    assert exported_chat(group) == ExportedChat(-4321, "group", "Old Friends")
    public = ExportBuilder(BARE, kind="public_supergroup").header
    assert exported_chat(public).chat_id == CHAT


@pytest.mark.parametrize(
    ("header", "says"),
    [
        ({"name": "News", "type": "public_channel", "id": 5}, "public_channel chat, not a group"),
        ({"name": "Ann", "type": "personal_chat", "id": 5}, "not a group"),
        ({"about": "x", "personal_information": None}, "whole-account export"),
        ({"name": "G", "type": "private_supergroup", "id": "12"}, "not a positive number"),
        ({"name": "G", "type": "private_supergroup"}, "not a positive number"),
    ],
)
def test_an_export_of_no_group_is_refused_in_one_sentence(
    header: dict[str, Any], says: str
) -> None:
    """Channels, private chats, whole-account exports and a bad id are refused plainly."""
    with pytest.raises(ChatExportError, match=says):
        exported_chat(header)


def test_every_message_and_service_message_maps_to_its_events() -> None:
    """The forum export gives each kind of event, and only service messages that change
    membership or the title give any."""
    events, tally = _convert(forum_export(BARE))
    kinds = Counter(event.kind for event in events)
    assert kinds == {"message": 14, "member": 6, "edit": 1, "reaction_count": 1, "title": 1}
    assert tally.events == kinds
    assert tally.other_service == 4  # create_group, two topic_created, pin_message
    assert not tally.skipped
    assert all(event.chat_id == CHAT and event.chat_type == "supergroup" for event in events)


def test_media_types_are_named_as_the_gateway_names_them() -> None:
    """Photo, document and each media_type map to the gateway's message types."""
    posted = _posted(_convert(forum_export(BARE))[0])
    assert [posted[i].message_type for i in range(10, 18)] == [
        "photo",
        "sticker",
        "voice",
        "video_note",
        "video",
        "animation",
        "audio",
        "document",
    ]
    assert posted[2].message_type == "text"


def test_a_poll_a_location_and_a_contact_have_their_types() -> None:
    chat = ExportBuilder(BARE)
    chat.message(11, "Ann", "", poll={"question": "Sat?", "answers": []})
    chat.message(11, "Ann", "", location_information={"latitude": 1.5, "longitude": 2.5})
    chat.message(11, "Ann", "", place_name="Hut", address="Hill 1")
    chat.message(11, "Ann", "", contact_information={"first_name": "Bo", "phone_number": "1"})
    chat.message(11, "Ann", "", game_title="Chess")
    posted = _posted(_convert(chat)[0])
    assert [p.message_type for p in posted.values()] == [
        "poll",
        "location",
        "location",
        "contact",
        "text",
    ]


def test_entities_and_words_are_counted_by_the_gateways_rules() -> None:
    """link and text_link are links, mention and mention_name mentions; words need a letter."""
    posted = _posted(_convert(forum_export(BARE))[0])
    topic = posted[8]
    assert (topic.links, topic.mentions, topic.hashtags) == (1, 1, 1)
    assert (topic.text_length, topic.word_count) == (35, 4)
    named = posted[20]
    assert (named.links, named.mentions, named.hashtags) == (1, 1, 0)
    assert (named.text_length, named.word_count) == (len("Bob and map"), 3)


def test_forum_topics_come_from_replies_to_their_root_messages() -> None:
    """A message replying to a topic's root sits in that topic without replying; a reply
    to a message in a topic is in the same topic; a reply to another chat's message is no
    reply; a message outside topics has none."""
    posted = _posted(_convert(forum_export(BARE))[0])
    assert (posted[8].thread_id, posted[8].reply_to_message_id) == (3, None)
    assert (posted[9].thread_id, posted[9].reply_to_message_id) == (3, 8)
    assert (posted[10].thread_id, posted[10].reply_to_message_id) == (4, None)
    assert (posted[19].thread_id, posted[19].reply_to_message_id) == (None, None)
    assert posted[2].thread_id is None


def test_a_plain_reply_outside_a_forum_is_a_reply() -> None:
    chat = ExportBuilder(BARE)
    chat.message(11, "Ann", "q")
    chat.message(12, "Bob", "a", reply_to_message_id=1)
    posted = _posted(_convert(chat)[0])
    assert (posted[2].thread_id, posted[2].reply_to_message_id) == (None, 1)


def test_senders_forwards_and_anonymous_admins() -> None:
    """A user sender carries the display name; the chat itself speaking has no sender; a
    forward from a hidden name (forwarded_from null) is still a forward."""
    posted = _posted(_convert(forum_export(BARE))[0])
    assert posted[2].sender is not None
    assert (posted[2].sender.user_id, posted[2].sender.first_name) == (11, "Ann Lee")
    assert posted[19].sender is None
    assert posted[18].forwarded and not posted[2].forwarded


def test_an_edited_message_gives_an_edit_at_its_edit_time() -> None:
    events, _ = _convert(forum_export(BARE))
    edit = next(e for e in events if isinstance(e, MessageEdited))
    posted = _posted(events)[8]
    assert edit.message_id == 8 and edit.sent_at == posted.occurred_at
    assert (edit.occurred_at - posted.occurred_at).total_seconds() == 300
    assert (edit.text_length, edit.word_count) == (posted.text_length, posted.word_count)


def test_reactions_are_totals_keyed_as_the_gateway_keys_them() -> None:
    """Emoji by themselves, custom emoji as custom:<id>, paid as paid; the recent reactors
    are not counted again."""
    events, _ = _convert(forum_export(BARE))
    counts = next(e for e in events if isinstance(e, ReactionCounts))
    assert (counts.message_id, counts.counts) == (9, {"👍": 3, "🔥": 1})
    chat = ExportBuilder(BARE)
    chat.message(
        11,
        "Ann",
        "x",
        reactions=[
            {"type": "custom_emoji", "count": 2, "document_id": "5368"},
            {"type": "paid", "count": 7},
            {"type": "emoji", "count": 0, "emoji": "👎"},
        ],
    )
    only = next(e for e in _convert(chat)[0] if isinstance(e, ReactionCounts))
    assert only.counts == {"custom:5368": 2, "paid": 7}


def test_joins_and_leaves_with_inviters_links_and_requests() -> None:
    """An invitation names its inviter; a link join is via_link; a request join and a
    self-leave have no inviter; a removal is a leave; a member the export names but never
    shows acting is counted, not guessed."""
    events, tally = _convert(forum_export(BARE))
    assert _members(events) == [
        (12, "join", 11, False),
        (13, "join", 11, False),
        (13, "join", None, True),
        (14, "join", None, False),
        (13, "leave", None, False),
        (14, "leave", None, False),
    ]
    assert tally.unknown_members == 1


def test_a_name_two_users_share_is_not_guessed() -> None:
    chat = ExportBuilder(BARE)
    chat.message(21, "Sam", "one")
    chat.message(22, "Sam", "two")
    chat.service(11, "Ann", "invite_members", members=["Sam"])
    events, tally = _convert(chat)
    assert _members(events) == []
    assert tally.unknown_members == 1


def test_a_recent_reactor_is_known_by_name() -> None:
    """A member who only reacted is found by the name the reaction's recent list gives."""
    chat = ExportBuilder(BARE)
    chat.message(11, "Ann", "hi", reactions=[reaction("👍", 1, (31, "Quiet Quinn"))])
    chat.service(11, "Ann", "remove_members", members=["Quiet Quinn"])
    events, tally = _convert(chat)
    assert _members(events) == [(31, "leave", None, False)]
    assert tally.unknown_members == 0


def test_a_title_change_carries_its_title() -> None:
    events, _ = _convert(forum_export(BARE))
    title = next(e for e in events if isinstance(e, TitleChanged))
    assert (title.title, title.chat_title) == ("Hiking Club", "Hiking Club")


def test_text_travels_only_when_stored_and_then_cut_to_telegrams_longest() -> None:
    """Without store_text no event carries text; with it, text as written (max 4096)."""
    events, _ = _convert(forum_export(BARE))
    assert all(getattr(event, "text", None) is None for event in events)
    chat = ExportBuilder(BARE)
    chat.message(11, "Ann", "hello there")
    chat.message(11, "Ann", "x" * 5000)
    posted = _posted(_convert(chat, store_text=True)[0])
    assert posted[1].text == "hello there"
    assert posted[2].text == "x" * 4096 and posted[2].text_length == 5000


def test_the_same_export_gives_the_same_events_ids_included() -> None:
    """Ids come from the export (chat, message id, send time, kind), so a re-import
    publishes exactly what the first import did."""
    first, _ = _convert(forum_export(BARE))
    again, _ = _convert(forum_export(BARE))
    assert first == again
    ids = [event.event_id for event in first]
    assert len(set(ids)) == len(ids)
    assert ids[0] == f"export:{CHAT}:2@{1740819660}:message"


def test_a_later_exports_new_edit_and_totals_get_new_ids() -> None:
    """Exported again after another edit and more reactions, the message keeps its id and
    the edit and totals get new ones (JetStream would drop a repeated id within its window)."""
    first, later = ExportBuilder(BARE), ExportBuilder(BARE)
    for chat, minutes, thumbs in ((first, 5, 1), (later, 9, 2)):
        record = chat.message(11, "Ann", "hi", reactions=[reaction("👍", thumbs)])
        chat.edited(record, minutes=minutes)
    before = [event.event_id for event in _convert(first)[0]]
    after = [event.event_id for event in _convert(later)[0]]
    assert before[0] == after[0]
    assert before[1] != after[1] and before[2] != after[2]


def test_a_malformed_message_is_counted_and_skipped_and_the_rest_goes_on() -> None:
    """A message without an id, with a bad date, without any date, or that the exporting
    app did not support, is skipped by reason; the others are converted."""
    chat = ExportBuilder(BARE)
    chat.message(11, "Ann", "fine")
    chat.messages.append({"type": "message", "date_unixtime": "1740819660", "text": "no id"})
    chat.message(11, "Ann", "bad date")["date_unixtime"] = "yesterday"
    undated = chat.message(11, "Ann", "no date")
    del undated["date"], undated["date_unixtime"]
    chat.messages.append({"id": 99, "type": "unsupported"})
    chat.messages.append("not an object")
    chat.message(12, "Bob", "also fine")
    events, tally = _convert(chat)
    assert [e.message_id for e in events if isinstance(e, MessagePosted)] == [1, 7]
    assert sum(tally.skipped.values()) == 5
    assert tally.skipped["no date"] == 1
    assert tally.skipped["unsupported by the exporting app"] == 1


def test_an_export_without_unix_times_is_read_in_local_time() -> None:
    chat = ExportBuilder(BARE)
    record = chat.message(11, "Ann", "old export")
    del record["date_unixtime"]
    posted = _posted(_convert(chat)[0])
    assert posted[1].occurred_at.utcoffset() is not None


def _stream(document: Any) -> io.BytesIO:
    return io.BytesIO(json.dumps(document, ensure_ascii=False).encode())


def test_the_header_and_messages_are_read_as_a_stream() -> None:
    """The header stops at the messages; the messages come one by one, in order."""
    export = forum_export(BARE).export()
    header = read_header(_stream(export))
    assert header == {
        "name": "Hiking Club",
        "type": "private_supergroup",
        "id": BARE,
        "messages": None,
    }
    assert list(read_messages(_stream(export))) == export["messages"]


def test_the_header_is_found_after_the_messages_too() -> None:
    """A file whose keys were sorted (messages before name, type and id) still reads."""
    export = forum_export(BARE).export()
    header = read_header(io.BytesIO(json.dumps(export, sort_keys=True).encode()))
    assert exported_chat(header).chat_id == CHAT


def test_a_whole_account_export_is_refused() -> None:
    account = {"about": "x", "personal_information": {"user_id": 1}, "chats": {"list": []}}
    with pytest.raises(ChatExportError, match="whole-account export"):
        exported_chat(read_header(_stream(account)))


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"", "not valid JSON"),
        (b"<html>", "not valid JSON"),
        (b'{"name": "G", "messages": [', "not valid JSON"),
        (b"[1, 2]", 'no "messages" list'),
        (b'{"videos": []}', 'no "messages" list'),
    ],
)
def test_a_file_that_is_no_export_says_so_in_one_sentence(content: bytes, says: str) -> None:
    with pytest.raises(ChatExportError, match=says):
        read_header(io.BytesIO(content))
        list(read_messages(io.BytesIO(content)))
