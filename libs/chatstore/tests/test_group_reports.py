"""The group reports against figures computed here from the same chat events.

The conversation (tests/factories/group_chat.py) is written through ingest's ChatWriter
into a real PostgreSQL; every expected figure is counted from the events in plain Python.
Each report is checked for both chats, which share message ids and users: a row of one
chat counted in the other's report would show as a difference.
"""

import re
import statistics
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from stop_words import get_stop_words  # type: ignore[import-untyped]  # no type information

from tally.chatstore import read
from tally.chatstore.read import Period
from tally.chatstore.tables import CHAT_TABLES
from tally.chatstore.write.writer import ChatWriter
from tally.contracts.chat_events import (
    ChatEvent,
    MemberChanged,
    MemberCountObserved,
    MessagePosted,
    ReactionChanged,
    ReactionCounts,
    SettingsChanged,
)
from tally.infra.db.session import asyncpg_dsn, create_engine
from tests.factories.group_chat import (
    ANN,
    BOB,
    CAT,
    DAN,
    ELSEWHERE,
    EVE,
    GROUP,
    PEOPLE,
    USER_IDS,
    WEEK_END,
    WEEK_START,
    elsewhere_events,
    group_events,
)


@dataclass
class Conversation:
    """One chat's events, and the figures they imply."""

    chat_id: int
    events: list[ChatEvent]

    @property
    def settings(self) -> SettingsChanged:
        return next(e for e in self.events if isinstance(e, SettingsChanged))

    @property
    def period(self) -> Period:
        return Period(WEEK_START, WEEK_END, ZoneInfo(self.settings.settings.timezone))

    def messages(self) -> dict[int, MessagePosted]:
        return {e.message_id: e for e in self.events if isinstance(e, MessagePosted)}

    def sent(self, period: Period) -> list[MessagePosted]:
        return [m for m in self.messages().values() if self.in_period(m.occurred_at, period)]

    def in_period(self, at: datetime, period: Period) -> bool:
        return period.start <= at.astimezone(period.tz).date() <= period.end

    def named(self) -> dict[tuple[int, int], tuple[str, ...]]:
        """(message, user) -> the emoji standing (the last change wins)."""
        found = {}
        for e in self.events:
            if isinstance(e, ReactionChanged) and e.user:
                found[e.message_id, e.user.user_id] = e.new
        return found

    def combined(self, message_id: int) -> Counter[str]:
        named = Counter(
            emoji for (m, _), emojis in self.named().items() if m == message_id for emoji in emojis
        )
        totals: dict[str, int] = {}
        for e in self.events:
            if isinstance(e, ReactionCounts) and e.message_id == message_id:
                totals = e.counts
        return Counter({k: max(named[k], totals.get(k, 0)) for k in {*named, *totals}})

    def received(self, period: Period) -> Counter[int]:
        found: Counter[int] = Counter()
        for m in self.sent(period):
            if m.sender:
                found[m.sender.user_id] += self.combined(m.message_id).total()
        return found

    def given(self, period: Period) -> Counter[int]:
        ids = {m.message_id for m in self.sent(period)}
        return Counter(
            user for (m, user), emojis in self.named().items() if m in ids for _ in emojis
        )

    def replies(self, period: Period) -> list[tuple[int | None, int | None, float]]:
        """(replier, author, delay s) of replies sent in ``period`` whose original is stored."""
        messages = self.messages()
        found = []
        for reply in self.sent(period):
            original = messages.get(reply.reply_to_message_id or 0)
            if original and original.occurred_at <= reply.occurred_at:
                found.append(
                    (
                        reply.sender.user_id if reply.sender else None,
                        original.sender.user_id if original.sender else None,
                        (reply.occurred_at - original.occurred_at).total_seconds(),
                    )
                )
        return found

    def posted(self, period: Period, measure: str = "messages") -> Counter[int]:
        found: Counter[int] = Counter()
        for m in self.sent(period):
            if m.sender:
                found[m.sender.user_id] += 1 if measure == "messages" else m.word_count
        return found

    def members(self, period: Period) -> list[MemberChanged]:
        return [
            e
            for e in self.events
            if isinstance(e, MemberChanged) and self.in_period(e.occurred_at, period)
        ]


CHATS = {
    GROUP: Conversation(GROUP, group_events()),
    ELSEWHERE: Conversation(ELSEWHERE, elsewhere_events()),
}
LABELS = {
    p.user_id: f"@{p.username}" if p.username else f"{p.first_name} {p.last_name}" for p in PEOPLE
}


def top(counts: Counter[int], limit: int = 10) -> list[tuple[str, int]]:
    """``counts`` above 0, highest first, ties by user id, as (label, count)."""
    ranked = sorted((item for item in counts.items() if item[1] > 0), key=lambda i: (-i[1], i[0]))
    return [(LABELS[user], n) for user, n in ranked[:limit]]


def pairs(items: list[read.MemberCount]) -> list[tuple[str, int]]:
    return [(item.member.label, item.count) for item in items]


@pytest.fixture(scope="module")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    writer = ChatWriter(engine)
    for conversation in CHATS.values():
        await writer.write(conversation.events[:1])  # the settings first
        await writer.write(conversation.events[1:])
    yield engine
    async with engine.begin() as connection:
        for table in CHAT_TABLES:
            if "chat_id" in table.c:
                await connection.execute(table.delete().where(table.c.chat_id.in_(list(CHATS))))
        await connection.execute(
            text("DELETE FROM users WHERE user_id = ANY(:ids)"), {"ids": USER_IDS}
        )
    await engine.dispose()


def streak(days: set[date]) -> int:
    """The longest run of consecutive days in ``days``."""
    best = 0
    for day in days:
        if day - timedelta(days=1) not in days:
            run = 1
            while day + timedelta(days=run) in days:
                run += 1
            best = max(best, run)
    return best


def figures(chat: Conversation, user_id: int, period: Period) -> dict[str, object]:
    posted = chat.posted(period)
    mine = posted[user_id]
    days = {
        m.occurred_at.astimezone(period.tz).date()
        for m in chat.sent(period)
        if m.sender and m.sender.user_id == user_id
    }
    return {
        "start": period.start,
        "end": period.end,
        "messages": mine,
        "words": chat.posted(period, "words")[user_id],
        "active_days": len(days),
        "rank": 1 + sum(1 for n in posted.values() if n > mine) if mine else None,
        "longest_streak": streak(days),
        "reactions_received": chat.received(period)[user_id],
        "reactions_given": chat.given(period)[user_id],
    }


@pytest.mark.parametrize("chat_id", list(CHATS))
@pytest.mark.parametrize("person", [ANN, BOB, CAT, DAN, EVE])
async def test_member_stats(engine: AsyncEngine, chat_id: int, person: object) -> None:
    """Messages, words, active days, rank, streak, reactions (this week and the one before),
    favourite hours and reply partners are those the events give."""
    chat, user_id = CHATS[chat_id], person.user_id  # type: ignore[attr-defined]
    period = chat.period
    async with engine.connect() as db:
        stats = await read.member_stats(db, chat_id, user_id, period)
    assert stats.member.label == LABELS[user_id]
    assert stats.figures.model_dump() == figures(chat, user_id, period)
    assert stats.previous.model_dump() == figures(chat, user_id, period.previous())
    hours = Counter(
        m.occurred_at.astimezone(period.tz).hour
        for m in chat.sent(period)
        if m.sender and m.sender.user_id == user_id
    )
    expected_hours = sorted(hours.items(), key=lambda i: (-i[1], i[0]))[:3]
    assert [(h.hour, h.messages) for h in stats.favourite_hours] == expected_hours
    found = chat.replies(period)
    to = Counter(a for r, a, _ in found if r == user_id and a is not None and a != user_id)
    by = Counter(r for r, a, _ in found if a == user_id and r is not None and r != user_id)
    assert pairs(stats.replies_to) == top(to, 3)
    assert pairs(stats.replied_by) == top(by, 3)


def test_the_figures_are_not_all_zero() -> None:
    """The conversation exercises what the reports count (so equal figures mean something)."""
    chat = CHATS[GROUP]
    period = chat.period
    assert figures(chat, ANN.user_id, period)["longest_streak"] == 5  # 22:00 UTC is the 9th
    assert figures(chat, CAT.user_id, period)["longest_streak"] == 4
    assert chat.combined(10) == Counter({"👍": 3, "🔥": 1, "😁": 1})  # totals cover named
    assert chat.combined(21) == Counter({"❤": 4})  # anonymous only
    assert chat.received(period.previous())[ANN.user_id] == 2
    assert len(chat.replies(period)) >= 6


async def test_find_member(engine: AsyncEngine) -> None:
    """A username is matched case-insensitively, with or without @, among the chat's members
    (posted, joined or left) only."""
    async with engine.connect() as db:
        assert (await read.find_member(db, GROUP, "@bob_k")).user_id == BOB.user_id  # type: ignore[union-attr]
        assert (await read.find_member(db, GROUP, "EVE")).user_id == EVE.user_id  # type: ignore[union-attr]
        assert await read.find_member(db, ELSEWHERE, "@ivy") is None  # not a member there
        assert await read.find_member(db, GROUP, "@nobody") is None


@pytest.mark.parametrize("chat_id", list(CHATS))
@pytest.mark.parametrize("by", read.MEASURES)
async def test_top_members(engine: AsyncEngine, chat_id: int, by: read.MemberMeasure) -> None:
    chat = CHATS[chat_id]
    period = chat.period
    if by in ("messages", "words"):
        expected = chat.posted(period, by)
    elif by == "reactions":
        expected = chat.received(period)
    else:
        expected = Counter(a for r, a, _ in chat.replies(period) if a is not None and r != a)
    async with engine.connect() as db:
        answer = await read.top_members(db, chat_id, period, by, limit=3)
    assert pairs(answer.items) == top(expected, 3)


@pytest.mark.parametrize("chat_id", list(CHATS))
async def test_content_breakdown(engine: AsyncEngine, chat_id: int) -> None:
    chat = CHATS[chat_id]
    sent = chat.sent(chat.period)
    async with engine.connect() as db:
        content = await read.content_breakdown(db, chat_id, chat.period)
    types = Counter(m.message_type for m in sent)
    assert {t.message_type: t.messages for t in content.by_type} == types
    assert (content.messages, content.links, content.mentions, content.hashtags) == (
        len(sent),
        sum(m.links for m in sent),
        sum(m.mentions for m in sent),
        sum(m.hashtags for m in sent),
    )
    assert content.forwards == sum(m.forwarded for m in sent)
    assert content.replies == sum(m.reply_to_message_id is not None for m in sent)
    stored = chat.settings.settings.store_text
    assert content.text_stored is stored
    if not stored:
        assert content.top_hashtags is None
        return
    tags = Counter(
        word[1:].lower()
        for m in sent
        if m.hashtags and m.text
        for word in re.findall(r"#\w+", m.text)
    )
    assert {t.tag: t.count for t in content.top_hashtags or []} == tags
    assert content.top_hashtags and content.top_hashtags[0].tag == "release"


@pytest.mark.parametrize("chat_id", list(CHATS))
async def test_reaction_stats(engine: AsyncEngine, chat_id: int) -> None:
    """Per message and emoji the larger of named reactions and anonymous totals counts."""
    chat = CHATS[chat_id]
    period = chat.period
    sent = chat.sent(period)
    per_emoji: Counter[str] = sum((chat.combined(m.message_id) for m in sent), Counter())
    async with engine.connect() as db:
        stats = await read.reaction_stats(db, chat_id, period, limit=3)
    assert stats.total == per_emoji.total()
    ranked = sorted(per_emoji.items(), key=lambda i: (-i[1], i[0]))[:3]
    assert [(e.emoji, e.count) for e in stats.top_emoji] == ranked
    per_message = sorted(
        ((m.message_id, m.sender, chat.combined(m.message_id).total()) for m in sent),
        key=lambda i: (-i[2], i[0]),
    )
    expected = [(i, s.user_id if s else None, n) for i, s, n in per_message if n][:3]
    assert [
        (m.message_id, m.author.user_id if m.author else None, m.reactions)
        for m in stats.top_messages
    ] == expected
    assert pairs(stats.received) == top(chat.received(period), 3)
    assert pairs(stats.given) == top(chat.given(period), 3)


@pytest.mark.parametrize("chat_id", list(CHATS))
async def test_reply_stats(engine: AsyncEngine, chat_id: int) -> None:
    chat = CHATS[chat_id]
    period = chat.period
    sent = chat.sent(period)
    found = chat.replies(period)
    async with engine.connect() as db:
        stats = await read.reply_stats(db, chat_id, period, limit=3)
    replies = sum(m.reply_to_message_id is not None for m in sent)
    assert (stats.messages, stats.replies) == (len(sent), replies)
    assert stats.reply_share == round(replies / len(sent), 4)
    assert stats.median_delay_seconds == statistics.median(d for _, _, d in found)
    counted = Counter((r, a) for r, a, _ in found if r and a and r != a)
    ranked = sorted(counted.items(), key=lambda i: (-i[1], i[0]))[:3]
    assert [(p.replier.user_id, p.replied_to.user_id, p.replies) for p in stats.top_pairs] == [
        (r, a, n) for (r, a), n in ranked
    ]


@pytest.mark.parametrize("chat_id", list(CHATS))
async def test_topic_activity(engine: AsyncEngine, chat_id: int) -> None:
    chat = CHATS[chat_id]
    sent = chat.sent(chat.period)
    async with engine.connect() as db:
        topics = await read.topic_activity(db, chat_id, chat.period)
    expected = {
        thread: (
            sum(m.thread_id == thread for m in sent),
            len({m.sender.user_id for m in sent if m.thread_id == thread and m.sender}),
        )
        for thread in {m.thread_id for m in sent}
    }
    assert {t.thread_id: (t.messages, t.members) for t in topics.topics} == expected
    assert all(t.title is None for t in topics.topics)


@pytest.mark.parametrize("chat_id", list(CHATS))
async def test_member_flow(engine: AsyncEngine, chat_id: int) -> None:
    chat = CHATS[chat_id]
    period = chat.period
    events = chat.members(period)
    joins = [e for e in events if e.change == "join"]
    async with engine.connect() as db:
        flow = await read.member_flow(db, chat_id, period)
    for day in flow.days:
        on_day = [e for e in events if e.occurred_at.astimezone(period.tz).date() == day.day]
        assert (day.joins, day.leaves) == (
            sum(e.change == "join" for e in on_day),
            sum(e.change == "leave" for e in on_day),
        )
    assert [d.day for d in flow.days] == period.each_day()
    assert (flow.joins, flow.leaves) == (len(joins), len(events) - len(joins))
    assert flow.via_link == sum(e.via_link for e in joins)
    assert flow.added == sum(e.inviter is not None for e in joins)
    inviters = Counter(e.inviter.user_id for e in joins if e.inviter)
    assert pairs(flow.top_inviters) == top(inviters)
    joined = {e.user.user_id: e.occurred_at for e in reversed(joins)}
    churned = {
        e.user.user_id
        for e in events
        if e.change == "leave"
        and e.user.user_id in joined
        and e.occurred_at > joined[e.user.user_id]
    }
    assert (flow.joined_members, flow.churned) == (len(joined), len(churned))
    assert flow.churn_rate == (round(len(churned) / len(joined), 4) if joined else None)
    counted = {}
    for e in sorted(chat.events, key=lambda e: e.occurred_at):
        if isinstance(e, MemberCountObserved) and chat.in_period(e.occurred_at, period):
            counted[e.occurred_at.astimezone(period.tz).date()] = e.count
    assert [(p.day, p.count) for p in flow.member_counts] == sorted(counted.items())
    values = [count for _, count in sorted(counted.items())]
    assert (flow.count_first, flow.count_last) == (
        (values[0], values[-1]) if values else (None, None)
    )
    assert flow.count_change == (values[-1] - values[0] if values else None)


async def test_top_words_of_a_chat_that_stores_text(engine: AsyncEngine) -> None:
    """Words per script, stop words, links, mentions and hashtags left out."""
    chat = CHATS[GROUP]
    expected: dict[str, Counter[str]] = {"ru": Counter(), "en": Counter()}
    for m in chat.sent(chat.period):
        for token in (m.text or "").split():
            if token.startswith(("#", "@", "http")):
                continue
            word = token.strip(",.!?").lower()
            language = "ru" if re.search("[а-яё]", word) else "en"
            if len(word) > 1 and word.isalpha() and word not in get_stop_words(language):
                expected[language][word] += 1
    async with engine.connect() as db:
        words = await read.top_words(db, GROUP, chat.period)
        russian = await read.top_words(db, GROUP, chat.period, language="ru", limit=1)
    assert words.text_stored and words.refusal is None
    for language, counts in expected.items():
        assert {w.word: w.count for w in words.words[language]} == counts
    assert [(w.word, w.count) for w in russian.words["ru"]] == [("релиз", 3)]
    assert list(russian.words) == ["ru"]


async def test_top_words_refuse_without_text(engine: AsyncEngine) -> None:
    """A chat that does not store text gets a refusal, never words from anything else."""
    async with engine.connect() as db:
        words = await read.top_words(db, ELSEWHERE, CHATS[ELSEWHERE].period)
    assert not words.text_stored and words.words == {} and "does not store" in (words.refusal or "")


async def test_an_unknown_chat_has_empty_reports(engine: AsyncEngine) -> None:
    """Reports on a chat without rows are empty: nothing of the chats that have rows leaks."""
    period = CHATS[GROUP].period
    async with engine.connect() as db:
        assert (await read.top_members(db, -1, period, "messages")).items == []
        assert (await read.reaction_stats(db, -1, period)).total == 0
        assert (await read.reply_stats(db, -1, period)).median_delay_seconds is None
        assert (await read.member_stats(db, -1, ANN.user_id, period)).figures.messages == 0
        assert (await read.member_flow(db, -1, period)).joins == 0
        assert (await read.topic_activity(db, -1, period)).topics == []
        assert not (await read.top_words(db, -1, period)).text_stored


async def test_both_connection_kinds_give_the_same_reports(
    engine: AsyncEngine, database_url: str
) -> None:
    period = CHATS[GROUP].period

    async def answers(db: read.Database) -> list[object]:
        return [
            await read.member_stats(db, GROUP, ANN.user_id, period),
            await read.find_member(db, GROUP, "ann"),
            await read.top_members(db, GROUP, period, "reactions"),
            await read.content_breakdown(db, GROUP, period),
            await read.reaction_stats(db, GROUP, period),
            await read.reply_stats(db, GROUP, period),
            await read.topic_activity(db, GROUP, period),
            await read.member_flow(db, GROUP, period),
            await read.top_words(db, GROUP, period),
        ]

    async with engine.connect() as connection:
        through_sqlalchemy = await answers(connection)
    raw = await asyncpg.connect(**asyncpg_dsn(database_url))
    try:
        assert await answers(raw) == through_sqlalchemy
    finally:
        await raw.close()


async def test_a_pool_gives_the_same_reports_as_one_connection(
    engine: AsyncEngine, database_url: str
) -> None:
    """On a pool the reports run their statements at the same time (``together``); what they
    answer is what they answer one statement after the other on a connection."""
    period = CHATS[GROUP].period

    async def answers(db: read.Database) -> list[object]:
        return [
            await read.member_stats(db, GROUP, ANN.user_id, period),
            await read.member_stats(db, GROUP, BOB.user_id, period),
            await read.reaction_stats(db, GROUP, period, limit=3),
            await read.reply_stats(db, GROUP, period, limit=3),
            await read.member_stats(db, -1, ANN.user_id, period),
            await read.reply_stats(db, -1, period),
        ]

    async with engine.connect() as connection:
        one_by_one = await answers(connection)
    pool = await asyncpg.create_pool(**asyncpg_dsn(database_url), min_size=1, max_size=4)
    try:
        assert await answers(pool) == one_by_one
    finally:
        await pool.close()


@pytest.mark.parametrize(
    "ask",
    [
        lambda period: read.top_members(None, GROUP, period, "karma", 3),  # type: ignore[arg-type]
        lambda period: read.top_members(None, GROUP, period, "messages", 0),  # type: ignore[arg-type]
        lambda period: read.reaction_stats(None, GROUP, period, limit=101),  # type: ignore[arg-type]
        lambda period: read.top_words(None, GROUP, period, language="de"),  # type: ignore[arg-type]
    ],
)
async def test_bad_requests_are_refused(ask: object) -> None:
    """An unknown measure or language, or a limit out of range, is refused before any query."""
    with pytest.raises(read.StatsRequestError):
        await ask(CHATS[GROUP].period)  # type: ignore[operator]
