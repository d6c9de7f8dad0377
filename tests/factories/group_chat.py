"""A small group conversation as chat events (what the gateway publishes), for the group
reports' tests: written through ingest's ChatWriter, and read back by the tests to compute
every expected figure from the same events.

Two chats use the same message ids and the same users: GROUP (Berlin time, stores text, a
forum with topics) and ELSEWHERE (UTC, no text). A report on one that counted a row of the
other would differ from the figures computed from that chat's events alone.
"""

from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any

from tally.contracts.chat_events import (
    ChatEvent,
    ChatSettings,
    ChatUser,
    MemberChanged,
    MemberCountObserved,
    MessagePosted,
    ReactionChanged,
    ReactionCounts,
    SettingsChanged,
)

GROUP = -100_500_001
ELSEWHERE = -100_500_002
WEEK_START, WEEK_END = date(2025, 10, 6), date(2025, 10, 12)
"""The period the tests report on (Berlin days); the week before is the previous period."""

ANN = ChatUser(user_id=9_100_001, username="ann", first_name="Ann")
BOB = ChatUser(user_id=9_100_002, username="Bob_K", first_name="Bob")
CAT = ChatUser(user_id=9_100_003, first_name="Cat", last_name="Lee")
DAN = ChatUser(user_id=9_100_004, username="dan")
EVE = ChatUser(user_id=9_100_005, username="eve")
FAY = ChatUser(user_id=9_100_006, username="fay")
GUS = ChatUser(user_id=9_100_007, username="gus")
HAL = ChatUser(user_id=9_100_008, username="hal")
IVY = ChatUser(user_id=9_100_009, username="ivy")
PEOPLE = [ANN, BOB, CAT, DAN, EVE, FAY, GUS, HAL, IVY]
USER_IDS = [person.user_id for person in PEOPLE]


def _at(day: int, hour: int, minute: int = 0, month: int = 10) -> datetime:
    """2025-``month``-``day`` ``hour``:``minute`` UTC (Berlin is UTC+2 in early October)."""
    return datetime(2025, month, day, hour, minute, tzinfo=UTC)


class _Chat:
    """Builds one chat's events in order, numbering event ids."""

    def __init__(self, chat_id: int, settings: ChatSettings) -> None:
        self.chat_id = chat_id
        self.ids = count(1)
        first = _at(1, 0, month=9)
        self.events: list[ChatEvent] = [self._event(SettingsChanged, first, settings=settings)]

    def _event(self, kind: Any, at: datetime, **fields: Any) -> Any:
        event_id = f"{self.chat_id}:{next(self.ids)}"
        return kind(event_id=event_id, chat_id=self.chat_id, occurred_at=at, **fields)

    def say(self, message_id: int, sender: ChatUser | None, at: datetime, **fields: Any) -> None:
        fields.setdefault("word_count", 4)
        self.events.append(
            self._event(MessagePosted, at, message_id=message_id, sender=sender, **fields)
        )

    def react(self, message_id: int, user: ChatUser, at: datetime, *emoji: str) -> None:
        self.events.append(
            self._event(ReactionChanged, at, message_id=message_id, user=user, new=emoji)
        )

    def totals(self, message_id: int, at: datetime, **counts: int) -> None:
        named = {_EMOJI[name]: n for name, n in counts.items()}
        self.events.append(self._event(ReactionCounts, at, message_id=message_id, counts=named))

    def member(self, user: ChatUser, change: str, at: datetime, **fields: Any) -> None:
        self.events.append(self._event(MemberChanged, at, user=user, change=change, **fields))

    def counted(self, members: int, at: datetime) -> None:
        self.events.append(self._event(MemberCountObserved, at, count=members))


_EMOJI = {"like": "👍", "fire": "🔥", "heart": "❤", "laugh": "😁"}
LIKE, FIRE, HEART, LAUGH = _EMOJI.values()


def _previous_week(chat: _Chat) -> None:
    chat.say(1, ANN, _at(1, 9), word_count=6)
    chat.say(2, ANN, _at(2, 9), word_count=2, reply_to_message_id=1)
    chat.say(3, BOB, _at(2, 10), reply_to_message_id=2)
    chat.react(1, BOB, _at(1, 12), LIKE)
    chat.member(IVY, "join", _at(3, 8), via_link=True)


def _talk(chat: _Chat) -> None:
    """The week's messages: replies, topics, entities, types and text."""
    chat.say(10, ANN, _at(6, 7), text="Release #Notes are out #release", hashtags=2, thread_id=7)
    chat.say(11, BOB, _at(6, 7, 5), reply_to_message_id=10, thread_id=7, links=1)
    chat.say(12, CAT, _at(6, 9), reply_to_message_id=10, text="Релиз вышел, смотрим релиз")
    chat.say(13, ANN, _at(7, 8), reply_to_message_id=11, mentions=2, text="@Bob_K thanks, bob")
    chat.say(14, BOB, _at(7, 8, 30), reply_to_message_id=13, message_type="photo")
    chat.say(15, ANN, _at(8, 21, 30), reply_to_message_id=14, message_type="sticker")
    chat.say(16, ANN, _at(8, 22), reply_to_message_id=16 - 1, forwarded=True)  # to herself
    chat.say(17, CAT, _at(9, 6), reply_to_message_id=9_999, message_type="voice")  # not stored
    chat.say(18, CAT, _at(10, 6), text="релиз завтра, release notes https://x.io", links=1)
    chat.say(19, CAT, _at(11, 6), thread_id=8, text="#релиз #Release")
    chat.say(
        20, CAT, _at(12, 6), thread_id=8, hashtags=2, text="#release again, #x_1", word_count=9
    )
    chat.say(21, None, _at(10, 12), text="Anonymous admin here")
    chat.say(22, DAN, _at(10, 13), reply_to_message_id=12, text="the the the and")
    chat.say(23, ANN, _at(10, 13, 30), reply_to_message_id=3)  # to the week before
    chat.say(24, BOB, _at(12, 22, 30))  # 13 Oct 00:30 in Berlin: after the period


def _reactions(chat: _Chat) -> None:
    chat.react(10, BOB, _at(6, 8), LIKE, FIRE)
    chat.react(10, CAT, _at(6, 9), LIKE)
    chat.react(10, DAN, _at(6, 9), HEART)
    chat.react(10, DAN, _at(6, 10), LAUGH)  # replaces DAN's heart
    chat.totals(10, _at(6, 11), like=3, fire=1, laugh=1)  # covers the named ones, and one more
    chat.react(12, ANN, _at(6, 12), FIRE)
    chat.react(13, BOB, _at(7, 9), LIKE)
    chat.react(13, CAT, _at(7, 9), LIKE)
    chat.totals(21, _at(10, 14), heart=4)  # anonymous reactions only
    chat.react(2, CAT, _at(7, 9), HEART)  # a message of the week before


def _members(chat: _Chat) -> None:
    chat.member(EVE, "join", _at(7, 10), via_link=True)
    chat.member(FAY, "join", _at(8, 10), inviter=ANN)
    chat.member(GUS, "join", _at(9, 10), inviter=ANN)
    chat.member(HAL, "join", _at(10, 10), inviter=BOB)
    chat.member(GUS, "leave", _at(11, 10))
    chat.member(IVY, "leave", _at(8, 15))  # joined the week before
    chat.member(DAN, "join", _at(11, 11))


def _member_counts(chat: _Chat) -> None:
    """Snapshots of the member count: in the week before, on Berlin's 6 and 9 October (twice:
    the later one is the day's), none on the other days, and one just after the week."""
    chat.counted(98, _at(3, 5))
    chat.counted(100, _at(6, 1))
    chat.counted(103, _at(8, 23))  # 9 Oct 01:00 in Berlin
    chat.counted(104, _at(9, 5))
    chat.counted(110, _at(12, 23))  # 13 Oct in Berlin: after the period


def group_events() -> list[ChatEvent]:
    """GROUP's events in order."""
    chat = _Chat(GROUP, ChatSettings(timezone="Europe/Berlin", store_text=True))
    for part in (_previous_week, _talk, _reactions, _members, _member_counts):
        part(chat)
    return chat.events


def elsewhere_events() -> list[ChatEvent]:
    """ELSEWHERE's events: the same message ids, other authors, replies and reactions."""
    chat = _Chat(ELSEWHERE, ChatSettings(timezone="UTC"))
    chat.say(10, DAN, _at(6, 7), hashtags=3, links=4)
    chat.say(11, DAN, _at(6, 8), reply_to_message_id=10, thread_id=7)
    chat.say(12, BOB, _at(7, 8), reply_to_message_id=10, message_type="video")
    chat.say(13, BOB, _at(9, 8) + timedelta(minutes=1), reply_to_message_id=12)
    chat.react(10, ANN, _at(6, 9), LAUGH)
    chat.react(13, ANN, _at(9, 9), LIKE)
    chat.totals(12, _at(9, 9), fire=7)
    chat.member(CAT, "join", _at(8, 9), inviter=DAN)
    chat.member(CAT, "leave", _at(9, 9))
    return chat.events
