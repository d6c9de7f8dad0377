"""Planning a batch of chat events, in memory: local days, settings in stream order,
deduplication, reactions and the rollups' increments."""

from datetime import UTC, date, datetime

from tally.chatstore.write.batch import (
    ChatState,
    ReactionEvent,
    local_day,
    parse_chat_events,
    plan_batch,
)
from tally.chatstore.write.rollups import Rollups, settle_reactions
from tally.contracts.chat_events import (
    ChatEvent,
    ChatSettings,
    ChatUser,
    MessageEdited,
    MessagePosted,
    ReactionChanged,
    SettingsChanged,
)
from tally.contracts.subjects import Subjects

CHAT = -100_900
SUBJECTS = Subjects("t")
ANN = ChatUser(user_id=1, username="ann")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def posted(n: int, when: str, **more: object) -> MessagePosted:
    return MessagePosted(
        event_id=f"e{n}:{when}",
        chat_id=CHAT,
        occurred_at=at(when),
        message_id=n,
        sender=ANN,
        **more,
    )


def settings(when: str, **chosen: object) -> SettingsChanged:
    return SettingsChanged(
        event_id=f"s:{when}",
        chat_id=CHAT,
        occurred_at=at(when),
        settings=ChatSettings(**chosen),
    )


def test_local_days_follow_the_zone_across_the_end_of_summer_time() -> None:
    """Berlin's clocks go back at 01:00 UTC on 2025-10-26: 22:30 UTC the day before is
    already the 26th (CEST, +2), 23:00 UTC on the 26th is the 27th (CET, +1)."""
    assert local_day(at("2025-10-25T21:59:59"), "Europe/Berlin") == date(2025, 10, 25)
    assert local_day(at("2025-10-25T22:00:00"), "Europe/Berlin") == date(2025, 10, 26)
    assert local_day(at("2025-10-26T22:59:59"), "Europe/Berlin") == date(2025, 10, 26)
    assert local_day(at("2025-10-26T23:00:00"), "Europe/Berlin") == date(2025, 10, 27)


def test_settings_apply_to_the_events_after_them_in_the_batch() -> None:
    """A message before a SettingsChanged keeps the old zone and no text; one after it gets
    the new zone's day and its text kept."""
    events: list[ChatEvent] = [
        posted(1, "2025-11-03T23:30:00", text="early", word_count=1),
        settings("2025-11-03T23:40:00", timezone="Asia/Tokyo", store_text=True),
        posted(2, "2025-11-03T23:50:00", text="late", word_count=1),
    ]
    plan = plan_batch(events, {CHAT: ChatState("UTC", store_text=False)})
    first, second = sorted(plan.messages)
    assert (plan.messages[first]["text"], plan.messages[first]["local_day"]) == (
        None,
        date(2025, 11, 3),
    )
    assert (plan.messages[second]["text"], plan.messages[second]["local_day"]) == (
        "late",
        date(2025, 11, 4),
    )
    assert plan.settings[CHAT].timezone == "Asia/Tokyo"


def test_a_repeated_message_counts_once_and_the_latest_edit_wins() -> None:
    """The same message twice in one batch is one row; of two edits, the later is kept."""
    message = posted(1, "2025-11-03T10:00:00", word_count=2)
    edits = [
        MessageEdited(
            event_id=f"edit{n}",
            chat_id=CHAT,
            occurred_at=at(f"2025-11-03T10:0{n}:00"),
            message_id=1,
            sent_at=at("2025-11-03T10:00:00"),
            word_count=n,
        )
        for n in (5, 7)
    ]
    plan = plan_batch([message, message, *edits], {})
    assert len(plan.messages) == 1
    assert [edit.word_count for edit in plan.edits.values()] == [7]


def test_anonymous_reactions_are_not_stored_per_user() -> None:
    """A ReactionChanged without a user (an anonymous chat reaction) has no user row to
    replace: it is left to the anonymous totals."""
    anonymous = ReactionChanged(
        event_id="r", chat_id=CHAT, occurred_at=at("2025-11-03T10:00:00"), message_id=1, new=("👍",)
    )
    assert plan_batch([anonymous], {}).reactions == []


def test_replacing_reactions_counts_what_stands_on_the_day_it_was_added() -> None:
    """👍 then ❤ by one user: 👍 comes and goes on the 3rd, ❤ stands from the 4th; a late
    copy of the first change is skipped."""
    key = (CHAT, 1, 7)
    thumbs = ReactionEvent(key, ("👍",), at("2025-11-03T10:00:00"), "UTC")
    heart = ReactionEvent(key, ("❤",), at("2025-11-04T10:00:00"), "UTC")
    rollups = Rollups()

    final = settle_reactions([thumbs, heart, thumbs], {}, rollups)

    assert final == {key: {"❤": at("2025-11-04T10:00:00")}}
    assert {day: totals[4] for (_, day), totals in rollups.daily.items()} == {
        date(2025, 11, 3): 0,
        date(2025, 11, 4): 1,
    }


def test_rollup_rows_keep_touched_keys_even_at_zero_and_come_sorted() -> None:
    """Rows come sorted by key; a key whose increments cancel out is still written."""
    rollups = Rollups()
    rollups.reactions(CHAT, date(2025, 11, 4), 1)
    rollups.reactions(CHAT, date(2025, 11, 3), 1)
    rollups.reactions(CHAT, date(2025, 11, 3), -1)
    daily, user_daily, hourly = rollups.rows()
    assert list(zip(daily["a_day"], daily["a_reactions"], strict=True)) == [
        (date(2025, 11, 3), 0),
        (date(2025, 11, 4), 1),
    ]
    assert user_daily == hourly == {}


def test_invalid_bodies_are_told_apart_from_valid_ones_by_index() -> None:
    """Bad JSON and an unknown time zone are reported by index with a reason; the valid
    event in between is kept."""
    good = posted(1, "2025-11-03T10:00:00")
    mars = settings("2025-11-03T10:00:00", timezone="Mars/Base")
    valid, invalid = parse_chat_events(
        [("", b"{oops"), _on_its_subject(good), _on_its_subject(mars)], SUBJECTS
    )
    assert [index for index, _ in valid] == [1]
    assert [index for index, _ in invalid] == [0, 2]
    assert "Mars/Base" in invalid[1][1]


def test_an_event_on_another_subject_than_its_own_is_refused() -> None:
    """A settings change on a message subject (what a gateway, which may publish messages but
    not settings, would have to do) and a message on another chat's subject are refused."""
    change = settings("2025-11-03T10:00:00")
    message = posted(1, "2025-11-03T10:00:00")
    disguised = (SUBJECTS.chat_event(CHAT, "message"), change.model_dump_json().encode())
    elsewhere = (SUBJECTS.chat_event(-100_1, "message"), message.model_dump_json().encode())
    valid, invalid = parse_chat_events([disguised, elsewhere, _on_its_subject(message)], SUBJECTS)
    assert [index for index, _ in valid] == [2]
    assert [index for index, _ in invalid] == [0, 1]
    assert "a settings event" in invalid[0][1]


def _on_its_subject(event: ChatEvent) -> tuple[str, bytes]:
    return SUBJECTS.chat_event(event.chat_id, event.kind), event.model_dump_json().encode()
