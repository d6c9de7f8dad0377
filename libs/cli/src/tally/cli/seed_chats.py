"""``tally seed-chats``: realistic group chats, generated deterministically from a seed.

:func:`generate_chat_events` returns chat events in time order (the order a gateway would
publish them): per chat a SettingsChanged first (its time zone; the first chat stores text,
the fourth keeps 60 days), then months of messages with a daily rhythm in the chat's local
time and a weekly one, a few heavy posters and many quiet ones, replies, forwards, links,
mentions and hashtags, forum topics in one chat, edits, deletions, reactions (some changed
later), joins (some through a link or an inviter) and leaves, and one title change. The same
arguments always give the same events. :func:`publish_chat_events` sends them to CHAT_EVENTS
with ``Nats-Msg-Id`` set to the event id.
"""

import asyncio
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

from nats.js import JetStreamContext

from tally.contracts.chat_events import (
    ChatEvent,
    ChatSettings,
    ChatUser,
    MemberChanged,
    MemberCountObserved,
    MessageEdited,
    MessagePosted,
    MessagesDeleted,
    MessageType,
    ReactionChanged,
    SettingsChanged,
    TitleChanged,
)
from tally.contracts.subjects import Subjects

ZONES = (
    "Europe/Berlin",
    "America/New_York",
    "Asia/Tokyo",
    "Europe/Moscow",
    "UTC",
    "America/Sao_Paulo",
    "Asia/Kolkata",
    "Australia/Sydney",
)
TITLES = (
    "Python Berlin",
    "NYC Runners",
    "Tokyo Devs",
    "Книжный клуб",
    "Remote Workers",
    "Sao Paulo Food",
    "Bangalore Startups",
    "Sydney Surf",
)
FIRST_NAMES = ("Anna", "Ivan", "Maria", "John", "Yuki", "Olga", "Lucas", "Priya", "Sam", "Lena")
LAST_NAMES = ("Smith", "Petrov", "Tanaka", "Silva", "Kumar", "Müller", None, None)
WORDS = ("hello", "meeting", "today", "code", "run", "book", "coffee", "great", "thanks", "why")
EMOJI = ("👍", "❤", "🔥", "😂", "👏", "🤔", "🎉", "😢")
HOURS = (1, 1, 1, 1, 1, 2, 4, 8, 10, 12, 12, 13, 16, 13, 12, 12, 13, 14, 15, 18, 20, 18, 12, 5)
"""Relative activity per local hour: quiet nights, a lunch peak, the busiest evenings."""
TYPES: tuple[MessageType, ...] = ("text", "photo", "sticker", "video", "voice", "animation")
HOUR_ODDS = tuple(accumulate(HOURS))
TYPE_ODDS = tuple(accumulate((76, 8, 6, 3, 4, 3)))
EMOJI_ODDS = tuple(accumulate((40, 25, 12, 10, 5, 3, 3, 2)))
"""Cumulative weights, as ``random.choices`` takes them (computed once, not per call)."""


@dataclass
class _Member:
    user: ChatUser
    weight: float
    joins: date | None
    leaves: date | None

    def active(self, day: date) -> bool:
        """Posting on ``day``: joined before it (or a member from the start), not gone yet."""
        joined = self.joins is None or self.joins < day
        return joined and (self.leaves is None or day < self.leaves)


@dataclass
class _Chat:
    """One chat being generated: its profile and the events so far."""

    number: int
    chat_id: int
    zone: ZoneInfo
    settings: ChatSettings
    base: float
    weekend: float
    titles: tuple[str, str]
    renamed_at: datetime
    forum: bool
    members: list[_Member]
    events: list[ChatEvent] = field(default_factory=list)
    next_id: int = 1

    def event_id(self, kind: str) -> str:
        return f"seed-{self.chat_id}-{len(self.events)}:{kind}"

    def title(self, at: datetime) -> str:
        return self.titles[at >= self.renamed_at]


def chat_id_of(seed: int, number: int) -> int:
    """The id of the ``number``-th chat of ``seed`` (a supergroup id: -100…)."""
    return -(1_009_000_000_000 + seed * 1000 + number)


def _users(rng: random.Random, seed: int, count: int) -> list[ChatUser]:
    users = []
    for n in range(count):
        first = FIRST_NAMES[n % len(FIRST_NAMES)]
        users.append(
            ChatUser(
                user_id=7_000_000_000 + seed * 100_000 + n,
                username=None if rng.random() < 0.2 else f"{first.lower()}{n}",
                first_name=first,
                last_name=rng.choice(LAST_NAMES),
                is_bot=n == 0,
            )
        )
    return users


def _chat(
    rng: random.Random, seed: int, number: int, users: list[ChatUser], start: date, days: int
) -> _Chat:
    zone = ZONES[number % len(ZONES)]
    pool = rng.sample(users, k=max(2, int(len(users) * rng.uniform(0.3, 0.6))))
    members = []
    for user in pool:
        joins = None if rng.random() < 0.6 else start + timedelta(days=rng.randrange(days))
        first_day = joins or start
        left = rng.random() < 0.12 and first_day < start + timedelta(days=days - 1)
        span = (start + timedelta(days=days) - first_day).days
        leaves = first_day + timedelta(days=rng.randrange(1, span)) if left and span > 1 else None
        weight = 0.05 if user.is_bot else min(rng.paretovariate(1.2), 40.0)
        members.append(_Member(user, weight, joins, leaves))
    title = TITLES[number % len(TITLES)]
    renamed = datetime.combine(start + timedelta(days=days // 2), time(12), tzinfo=UTC)
    return _Chat(
        number=number,
        chat_id=chat_id_of(seed, number),
        zone=ZoneInfo(zone),
        settings=ChatSettings(
            timezone=zone, store_text=number == 0, retention_days=60 if number == 3 else None
        ),
        base=rng.uniform(40, 250),
        weekend=rng.choice((0.55, 0.8, 1.3)),
        titles=(title, f"{title} 2.0"),
        renamed_at=renamed,
        forum=number == 2,
        members=members,
    )


def _moment(rng: random.Random, chat: _Chat, day: date) -> datetime:
    """A time on local ``day`` by the daily rhythm, in UTC."""
    hour = rng.choices(range(24), cum_weights=HOUR_ODDS)[0]
    local = datetime.combine(day, time(hour, rng.randrange(60), rng.randrange(60)))
    return local.replace(tzinfo=chat.zone).astimezone(UTC)


def _message(
    rng: random.Random, chat: _Chat, sender: _Member | None, at: datetime
) -> MessagePosted:
    kind = rng.choices(TYPES, cum_weights=TYPE_ODDS)[0]
    words = max(1, int(rng.lognormvariate(1.8, 0.8))) if kind == "text" else 0
    text = " ".join(rng.choices(WORDS, k=words)) if chat.settings.store_text and words else None
    length = len(text) if text is not None else words * 5 + rng.randrange(words + 1)
    message_id = chat.next_id
    chat.next_id += 1
    reply = rng.random() < 0.2 and message_id > 1
    return MessagePosted(
        event_id=chat.event_id("message"),
        chat_id=chat.chat_id,
        chat_title=chat.title(at),
        occurred_at=at,
        message_id=message_id,
        thread_id=rng.choice((1, 7, 12)) if chat.forum else None,
        sender=sender.user if sender else None,
        message_type=kind,
        text_length=min(length, 4096),
        word_count=words,
        reply_to_message_id=rng.randrange(max(1, message_id - 50), message_id) if reply else None,
        forwarded=rng.random() < 0.04,
        links=int(rng.random() < 0.06),
        mentions=int(rng.random() < 0.1),
        hashtags=int(rng.random() < 0.03),
        text=text,
    )


def _follow_ups(
    rng: random.Random, chat: _Chat, posted: MessagePosted, active: list[_Member]
) -> None:
    """The edit, deletion and reactions that may follow ``posted``."""
    at = posted.occurred_at
    if posted.word_count and rng.random() < 0.03:
        words = max(1, posted.word_count + rng.randint(-2, 5))
        text = " ".join(rng.choices(WORDS, k=words)) if posted.text is not None else None
        chat.events.append(
            MessageEdited(
                event_id=chat.event_id("edit"),
                chat_id=chat.chat_id,
                chat_title=posted.chat_title,
                occurred_at=at + timedelta(minutes=rng.randint(1, 30)),
                message_id=posted.message_id,
                sent_at=at,
                text_length=len(text) if text is not None else words * 5,
                word_count=words,
                text=text,
            )
        )
    if rng.random() < 0.01:
        chat.events.append(
            MessagesDeleted(
                event_id=chat.event_id("delete"),
                chat_id=chat.chat_id,
                chat_title=posted.chat_title,
                occurred_at=at + timedelta(minutes=rng.randint(31, 120)),
                message_ids=(posted.message_id,),
            )
        )
    if rng.random() < 0.15:
        for reactor in rng.sample(active, k=min(len(active), rng.randint(1, 4))):
            _reactions(rng, chat, posted, reactor.user)


def _reactions(rng: random.Random, chat: _Chat, posted: MessagePosted, user: ChatUser) -> None:
    """A reaction to ``posted`` by ``user``; one in twenty is changed or taken back later."""
    emoji = rng.choices(EMOJI, cum_weights=EMOJI_ODDS)[0]
    at = posted.occurred_at + timedelta(minutes=rng.randint(1, 180))
    changes: list[tuple[datetime, tuple[str, ...], tuple[str, ...]]] = [(at, (), (emoji,))]
    if rng.random() < 0.05:
        other = rng.choice([e for e in EMOJI if e != emoji])
        later = at + timedelta(minutes=rng.randint(1, 60))
        changes.append((later, (emoji,), (other,) if rng.random() < 0.7 else ()))
    for moment, old, new in changes:
        chat.events.append(
            ReactionChanged(
                event_id=chat.event_id("reaction"),
                chat_id=chat.chat_id,
                chat_title=posted.chat_title,
                occurred_at=moment,
                message_id=posted.message_id,
                user=user,
                old=old,
                new=new,
            )
        )


def _membership(rng: random.Random, chat: _Chat) -> None:
    """Joins (by link, by an inviter, or neither) and leaves, on their days."""
    for member in chat.members:
        if member.joins is not None:
            inviter = rng.choice(chat.members).user if rng.random() < 0.3 else None
            at = _moment(rng, chat, member.joins)
            chat.events.append(
                MemberChanged(
                    event_id=chat.event_id("member"),
                    chat_id=chat.chat_id,
                    chat_title=chat.title(at),
                    occurred_at=at,
                    user=member.user,
                    change="join",
                    inviter=inviter if inviter != member.user else None,
                    via_link=inviter is None and rng.random() < 0.5,
                )
            )
        if member.leaves is not None:
            at = _moment(rng, chat, member.leaves)
            chat.events.append(
                MemberChanged(
                    event_id=chat.event_id("member"),
                    chat_id=chat.chat_id,
                    chat_title=chat.title(at),
                    occurred_at=at,
                    user=member.user,
                    change="leave",
                )
            )


def _days(rng: random.Random, chat: _Chat, start: date, days: int) -> None:
    """Each local day's messages: the chat's base rate, its weekend factor, slow growth."""
    for offset in range(days):
        day = start + timedelta(days=offset)
        active = [member for member in chat.members if member.active(day)]
        if not active:
            continue
        weekday = chat.weekend if day.weekday() >= 5 else 1.0
        count = int(chat.base * weekday * (0.8 + 0.4 * offset / days) * rng.uniform(0.7, 1.3))
        weights = list(accumulate(member.weight for member in active))
        senders = rng.choices(active, cum_weights=weights, k=count)
        moments = sorted(_moment(rng, chat, day) for _ in range(count))
        for sender, at in zip(senders, moments, strict=True):
            posted = _message(rng, chat, None if rng.random() < 0.01 else sender, at)
            chat.events.append(posted)
            _follow_ups(rng, chat, posted, active)


def _member_counts(chat: _Chat, start: date, days: int) -> None:
    """The gateway's daily member count: the members in the chat at local noon of each day."""
    for offset in range(days):
        day = start + timedelta(days=offset)
        at = datetime.combine(day, time(12), tzinfo=chat.zone).astimezone(UTC)
        chat.events.append(
            MemberCountObserved(
                event_id=chat.event_id("member_count"),
                chat_id=chat.chat_id,
                chat_title=chat.title(at),
                occurred_at=at,
                count=sum(member.active(day) for member in chat.members),
            )
        )


def generate_chat_events(
    *, end: date, chats: int = 5, users: int = 300, days: int = 120, seed: int = 1
) -> list[ChatEvent]:
    """Chat events of ``chats`` chats among ``users`` users over the ``days`` local days
    ending with ``end`` (inclusive), sorted by time (ties in generation order).

    Deterministic: the same arguments give the same events, ids included. Some 230 events
    per chat and day (136,825 for the defaults, a member count a day included), generated
    at about 60,000 a second.
    """
    rng = random.Random(seed)
    start = end - timedelta(days=days - 1)
    people = _users(rng, seed, users)
    events: list[ChatEvent] = []
    for number in range(chats):
        chat = _chat(rng, seed, number, people, start, days)
        opened = datetime.combine(start - timedelta(days=2), time(12), tzinfo=UTC)
        chat.events.append(
            SettingsChanged(
                event_id=chat.event_id("settings"),
                chat_id=chat.chat_id,
                chat_title=chat.titles[0],
                occurred_at=opened,
                settings=chat.settings,
            )
        )
        chat.events.append(
            TitleChanged(
                event_id=chat.event_id("title"),
                chat_id=chat.chat_id,
                chat_title=chat.titles[1],
                occurred_at=chat.renamed_at,
                title=chat.titles[1],
            )
        )
        _membership(rng, chat)
        _days(rng, chat, start, days)
        _member_counts(chat, start, days)
        events.extend(chat.events)
    events.sort(key=lambda event: event.occurred_at)
    return events


async def publish_chat_events(
    js: JetStreamContext, subjects: Subjects, events: Sequence[ChatEvent]
) -> int:
    """Publish ``events`` in order on ``subjects.chat_event(chat, kind)`` with
    ``Nats-Msg-Id: event_id``, many in flight; wait until JetStream acknowledged each.

    Returns how many JetStream stored (it drops an id it has seen within its duplicate window).
    """
    pending = [
        await js.publish_async(
            subjects.chat_event(event.chat_id, event.kind),
            event.model_dump_json().encode(),
            headers={"Nats-Msg-Id": event.event_id},
        )
        for event in events
    ]
    acks = await asyncio.gather(*pending)
    return sum(not ack.duplicate for ack in acks)
