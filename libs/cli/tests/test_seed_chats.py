"""The chat generator of `tally seed-chats`, and the arguments of `tally replay`, in memory."""

from collections import Counter
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from tally.cli.chats import NotReplayableError, check_stream, replay_start
from tally.cli.seed_chats import generate_chat_events
from tally.contracts.chat_events import (
    ChatEvent,
    MessageEdited,
    MessagePosted,
    ReactionChanged,
    SettingsChanged,
)
from tally.contracts.subjects import Subjects

END = date(2025, 11, 30)


def test_the_same_seed_gives_the_same_chats_and_another_seed_others() -> None:
    """Generation is deterministic, ids included; another seed gives other chats."""
    first = generate_chat_events(end=END, chats=2, users=30, days=5, seed=4)
    assert first == generate_chat_events(end=END, chats=2, users=30, days=5, seed=4)
    other = generate_chat_events(end=END, chats=2, users=30, days=5, seed=5)
    assert {e.chat_id for e in first}.isdisjoint({e.chat_id for e in other})


def test_events_come_in_time_order_with_settings_first_and_causes_before_effects() -> None:
    """Each chat starts with its settings; edits and reactions follow their message."""
    events = generate_chat_events(end=END, chats=3, users=60, days=20, seed=2)
    assert [e.occurred_at for e in events] == sorted(e.occurred_at for e in events)
    firsts: dict[int, ChatEvent] = {}
    for event in events:
        firsts.setdefault(event.chat_id, event)
    assert all(isinstance(event, SettingsChanged) for event in firsts.values())
    sent: dict[tuple[int, int], datetime] = {}
    for event in events:
        if isinstance(event, MessagePosted):
            sent[event.chat_id, event.message_id] = event.occurred_at
        elif isinstance(event, MessageEdited | ReactionChanged):
            assert sent[event.chat_id, event.message_id] < event.occurred_at
    kinds = Counter(event.kind for event in events)
    assert {"message", "edit", "delete", "reaction", "member", "title", "settings"} <= set(kinds)


def test_messages_follow_a_daily_rhythm_in_the_chats_local_time() -> None:
    """In the Berlin chat, evenings (19-22 local) are far busier than nights (2-5 local)."""
    events = generate_chat_events(end=END, chats=1, users=80, days=30, seed=3)
    berlin = ZoneInfo("Europe/Berlin")
    hours = Counter(
        e.occurred_at.astimezone(berlin).hour for e in events if isinstance(e, MessagePosted)
    )
    evenings = sum(hours[h] for h in range(19, 23))
    nights = sum(hours[h] for h in range(2, 6))
    assert evenings > 10 * nights


def test_replay_starts_at_a_sequence_a_time_or_the_beginning() -> None:
    """Digits are a stream sequence; an ISO time without a zone is UTC; nothing is the start."""
    assert replay_start(None) is None
    assert replay_start("42") == 42
    assert replay_start("2025-11-20T00:00:00") == datetime(2025, 11, 20, tzinfo=UTC)
    assert replay_start("2025-11-20T00:00:00Z") == datetime(2025, 11, 20, tzinfo=UTC)
    with pytest.raises(NotReplayableError):
        replay_start("yesterday")


def test_only_chat_events_can_be_replayed() -> None:
    """CHAT_EVENTS (or its prefixed name) is accepted; another stream is refused."""
    subjects = Subjects("tally")
    check_stream("CHAT_EVENTS", subjects)
    check_stream("TALLY_CHAT_EVENTS", subjects)
    with pytest.raises(NotReplayableError):
        check_stream("VIDEO_STATS", subjects)
