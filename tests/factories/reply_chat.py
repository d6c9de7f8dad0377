"""A busy chat full of replies, as chat events, for checking the reply report against a raw
recount over many periods: a few members write most and answer their favourite partners
(so some pairs stand out month after month, as in a real group), the rest scatter; delays
run from seconds to weeks, some in whole seconds (many equal ones), some with microseconds.
Some senders are anonymous, some replies answer the sender's own message, some answer a
message that was never stored."""

import random
from datetime import UTC, datetime, timedelta

from tally.contracts.chat_events import (
    ChatEvent,
    ChatSettings,
    ChatUser,
    MessagePosted,
    SettingsChanged,
)

REPLY_CHAT = -100_500_003
ZONE = "Europe/Berlin"
MEMBERS = [ChatUser(user_id=9_200_001 + n, username=f"member{n}") for n in range(40)]
MEMBER_IDS = [member.user_id for member in MEMBERS]
FIRST = datetime(2025, 7, 20, 6, tzinfo=UTC)
"""The first message; the last is about 4.5 months later (mid-December)."""


def reply_events(messages: int = 4000, seed: int = 15) -> list[ChatEvent]:
    """The settings, then ``messages`` messages in the order they were sent."""
    rng = random.Random(seed)
    weights = [1 / (n + 1) ** 1.2 for n in range(len(MEMBERS))]
    partner = {m.user_id: rng.choice(MEMBERS[:6]) for m in MEMBERS}
    events: list[ChatEvent] = [
        SettingsChanged(
            event_id=f"{REPLY_CHAT}:0",
            chat_id=REPLY_CHAT,
            occurred_at=FIRST - timedelta(days=1),
            settings=ChatSettings(timezone=ZONE),
        )
    ]
    sent: list[tuple[int, int | None]] = []  # (message id, sender id) in order
    at = FIRST
    for message_id in range(1, messages + 1):
        gap = rng.expovariate(1 / 2400)  # about 36 messages a day
        at += timedelta(seconds=round(gap / 30) * 30 if rng.random() < 0.5 else gap)
        sender = None if rng.random() < 0.08 else rng.choices(MEMBERS, weights)[0]
        reply_to = _answered(rng, sent, sender, partner) if sent and rng.random() < 0.6 else None
        events.append(
            MessagePosted(
                event_id=f"{REPLY_CHAT}:{message_id}",
                chat_id=REPLY_CHAT,
                occurred_at=at,
                message_id=message_id,
                sender=sender,
                word_count=3,
                reply_to_message_id=reply_to,
            )
        )
        sent.append((message_id, sender.user_id if sender else None))
    return events


def _answered(
    rng: random.Random,
    sent: list[tuple[int, int | None]],
    sender: ChatUser | None,
    partner: dict[int, ChatUser],
) -> int:
    """The id a reply answers: mostly a recent message (its sender's favourite partner's,
    when there is one among the last 200), sometimes an old one, rarely none stored."""
    roll = rng.random()
    if roll < 0.03:
        return 10_000_000 + len(sent)  # never stored: the reply stays unmatched
    if roll < 0.13:
        return rng.choice(sent)[0]  # anywhere back: days or weeks
    if sender is not None and roll < 0.6:
        favourite = partner[sender.user_id].user_id
        for message_id, author in reversed(sent[-200:]):
            if author == favourite:
                return message_id
    return rng.choice(sent[-30:])[0]
