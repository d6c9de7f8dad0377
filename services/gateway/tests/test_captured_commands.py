"""What is captured in groups, without any server: /content, /reactions, /replies, /topics,
/members and /words fed to the Dispatcher (``feed_update``) with a Bot whose session answers
from memory, the executor stood in for by a subscriber on FastStream's in-memory bus that
answers each request with a canned ChatReport of the days asked."""

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiogram import Bot
from aiogram.methods import SetMyCommands
from faststream.nats import TestNatsBroker
from prometheus_client import CollectorRegistry

from services.gateway.tests.test_dispatcher import SUBJECTS, Harness, RecordingSession
from tally.contracts.chat_reports import ChatReport, ChatReportRequested
from tally.contracts.group_reports import (
    ContentBreakdown,
    DayCount,
    DayFlow,
    EmojiCount,
    Member,
    MemberCount,
    MemberFlow,
    ReactionStats,
    ReplyPair,
    ReplyStats,
    TagCount,
    TopicActivity,
    TopicCount,
    TopWords,
    TypeCount,
    WordCount,
)
from tally.gateway.app import create_broker_for
from tally.gateway.config import GatewaySettings
from tally.gateway.context import GatewayContext
from tally.gateway.domain.captured import delay
from tally.gateway.domain.texts import say
from tally.gateway.handlers import provide_context
from tally.gateway.metrics import GatewayMetrics
from tally.gateway.telegram.dispatcher import create_dispatcher, release_routers
from tally.gateway.telegram.menu import register_commands
from tally.language.report_period import ReportPeriodError, read_report_arguments
from tally.testing.kv import MemoryKeyValue
from tally.testing.telegram import DEFAULT_TOKEN

GROUP = -100_778
BROKEN = -100_780
"""A chat whose reports the stand-in executor cannot make."""
MEMBER = 73
_ids = itertools.count(20_000)
ANN = Member(user_id=1, username="ann", label="@ann")
BOB = Member(user_id=2, first_name="<b>Bob</b>", label="<b>Bob</b>")
CAT = Member(user_id=3, username="cat", label="@cat")
NO_TEXT = "This chat does not store message text, so its words cannot be counted."


def _result(kind: str, chat_id: int, first: date, last: date) -> dict[str, Any]:
    """The canned result of ``kind`` over ``first``..``last``: the ChatReport field it fills."""
    span = {"chat_id": chat_id, "start": first, "end": last}
    match kind:
        case "content":
            return {
                "content": ContentBreakdown(
                    **span,
                    messages=1234,
                    by_type=[
                        TypeCount(message_type="text", messages=1200),
                        TypeCount(message_type="photo", messages=34),
                    ],
                    links=17,
                    mentions=9,
                    hashtags=5,
                    forwards=3,
                    replies=321,
                    text_stored=True,
                    top_hashtags=[TagCount(tag="release", count=4), TagCount(tag="<x>", count=1)],
                )
            }
        case "reactions":
            return {
                "reactions": ReactionStats(
                    **span,
                    total=42,
                    top_emoji=[EmojiCount(emoji="👍", count=30), EmojiCount(emoji="🔥", count=12)],
                    top_messages=[],
                    received=[MemberCount(member=ANN, count=25), MemberCount(member=BOB, count=17)],
                    given=[MemberCount(member=CAT, count=40)],
                )
            }
        case "replies":
            return {
                "replies": ReplyStats(
                    **span,
                    messages=200,
                    replies=50,
                    reply_share=0.25,
                    median_delay_seconds=330.0,
                    top_pairs=[
                        ReplyPair(replier=BOB, replied_to=ANN, replies=12),
                        ReplyPair(replier=ANN, replied_to=CAT, replies=7),
                    ],
                )
            }
        case "topics":
            return {
                "topics": TopicActivity(
                    **span,
                    topics=[
                        TopicCount(thread_id=7, messages=80, members=6),
                        TopicCount(thread_id=None, messages=20, members=4),
                    ],
                )
            }
        case "members":
            return {
                "flow": MemberFlow(
                    **span,
                    timezone="UTC",
                    days=[DayFlow(day=first, joins=3, leaves=1)]
                    + [
                        DayFlow(day=first + timedelta(days=n), joins=0, leaves=0)
                        for n in range(1, (last - first).days + 1)
                    ],
                    joins=3,
                    leaves=1,
                    via_link=2,
                    added=1,
                    top_inviters=[MemberCount(member=ANN, count=1)],
                    joined_members=3,
                    churned=1,
                    churn_rate=1 / 3,
                    member_counts=[
                        DayCount(day=first, count=1200),
                        DayCount(day=first + timedelta(days=2), count=1187),
                    ]
                    if chat_id == GROUP
                    else [],
                )
            }
        case "words":
            if chat_id == GROUP:
                return {"words": TopWords(**span, text_stored=False, refusal=NO_TEXT, words={})}
            words = {
                "en": [WordCount(word="release", count=9)],
                "ru": [WordCount(word="релиз", count=4)],
            }
            return {"words": TopWords(**span, text_stored=True, words=words)}
    raise AssertionError(kind)


@pytest.fixture
async def gateway() -> AsyncIterator[Harness]:
    """A gateway on an in-memory bus whose executor answers with the canned results,
    recording the report requests."""
    settings = GatewaySettings(
        bot_token=DEFAULT_TOKEN,
        subject_prefix=SUBJECTS.prefix,
        throttle_interval_s=0,
        group_throttle_interval_s=0,
    )
    broker = create_broker_for(settings, SUBJECTS)
    session = RecordingSession()
    bot = Bot(DEFAULT_TOKEN, session=session)
    registry = CollectorRegistry()
    ctx = GatewayContext.create(
        settings, subjects=SUBJECTS, bot=bot, broker=broker, metrics=GatewayMetrics(registry)
    )
    ctx.state.use(MemoryKeyValue())
    provide_context(broker, ctx)
    published: dict[str, list[dict[str, Any]]] = {}
    harness = Harness(create_dispatcher(ctx), bot, session, registry, broker, published)

    @broker.subscriber(SUBJECTS.chat_report)
    async def report(request: ChatReportRequested) -> ChatReport:
        published.setdefault(SUBJECTS.chat_report, []).append(request.model_dump(mode="json"))
        first, last = request.span(datetime.now(UTC).date())
        if request.chat_id == BROKEN:
            failed = say("report_failed", "en")
            return ChatReport(
                **request.model_dump(include={"chat_id", "kind", "timezone"}),
                first=first,
                last=last,
                error=failed,
            )
        return ChatReport(
            chat_id=request.chat_id,
            kind=request.kind,
            timezone=request.timezone,
            first=first,
            last=last,
            **_result(request.kind, request.chat_id, first, last),
        )

    async with TestNatsBroker(broker):
        yield harness
    release_routers(harness.dispatcher)


def _message(text: str, *, language: str = "en", chat_id: int = GROUP) -> dict[str, Any]:
    return {
        "update_id": next(_ids),
        "message": {
            "message_id": next(_ids),
            "date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": chat_id, "type": "supergroup", "title": "Fans"},
            "from": {"id": MEMBER, "is_bot": False, "first_name": "Ann", "language_code": language},
            "text": text,
        },
    }


def _requests(harness: Harness) -> list[ChatReportRequested]:
    bodies = harness.published.get(SUBJECTS.chat_report, [])
    return [ChatReportRequested.model_validate(body) for body in bodies]


async def _card(harness: Harness, text: str, **fields: Any) -> str:
    await harness.feed(_message(text, **fields))
    [reply] = harness.session.sent()
    assert reply.parse_mode == "HTML"
    return reply.text


@pytest.mark.parametrize("kind", ["content", "reactions", "replies", "topics", "members", "words"])
async def test_each_command_asks_for_its_kind_over_the_period_named(
    gateway: Harness, kind: str
) -> None:
    """``/<kind> 2025-11`` asks for that kind over 1 to 30 November on the chat's calendar
    (UTC without settings); the card names those days and the zone."""
    card = await _card(gateway, f"/{kind} 2025-11")

    [request] = _requests(gateway)
    assert (request.chat_id, request.kind, request.first, request.last) == (
        GROUP,
        kind,
        date(2025, 11, 1),
        date(2025, 11, 30),
    )
    assert request.timezone == "UTC"
    assert "1–30 Nov 2025 (UTC)" in card


async def test_without_a_period_a_command_covers_the_last_seven_days(gateway: Harness) -> None:
    """``/replies`` alone: the 7 days ending today (UTC)."""
    await gateway.feed(_message("/replies"))

    [request] = _requests(gateway)
    today = datetime.now(UTC).date()
    assert (request.first, request.last) == (today - timedelta(days=6), today)


async def test_content_card_shows_types_entities_and_hashtags(gateway: Harness) -> None:
    """/content: messages (thousands separated), by type, links, mentions, hashtags,
    forwards, replies and the top hashtags, escaped."""
    card = await _card(gateway, "/content")

    for line in (
        "Messages: 1,234",
        "By type: text 1,200 · photo 34",
        "Links: 17 · Mentions: 9 · Hashtags: 5",
        "Forwards: 3 · Replies: 321",
        "Top hashtags: #release 4 · #&lt;x&gt; 1",
    ):
        assert line in card


async def test_reactions_card_shows_emoji_received_and_given(gateway: Harness) -> None:
    """/reactions: the total, the most used emoji, who received most (a chosen name escaped)
    and who gave most."""
    card = await _card(gateway, "/reactions")

    assert "Reactions: 42" in card
    assert "Most used: 👍 30 · 🔥 12" in card
    assert "Received most:\n1. @ann — 25\n2. &lt;b&gt;Bob&lt;/b&gt; — 17" in card
    assert "Gave most:\n1. @cat — 40" in card


async def test_replies_card_shows_share_delay_and_pairs(gateway: Harness) -> None:
    """/replies: replies of messages with their share, the median reply time, the pairs."""
    card = await _card(gateway, "/replies")

    assert "Replies: 50 of 200 messages (25%)" in card
    assert "Median reply time: 5 min" in card
    assert "1. &lt;b&gt;Bob&lt;/b&gt; → @ann — 12\n2. @ann → @cat — 7" in card


async def test_replies_card_in_russian(gateway: Harness) -> None:
    """A Russian speaker gets the card in Russian, the period in Russian month names."""
    card = await _card(gateway, "/replies 2025-11", language="ru")

    assert "Ответы: 50 из 200 сообщений (25%)" in card
    assert "Медианное время ответа: 5 мин" in card
    assert "ноября 2025 (UTC)" in card


async def test_topics_card_lists_topics_busiest_first(gateway: Harness) -> None:
    """/topics: each topic's messages and members, the general topic by name."""
    card = await _card(gateway, "/topics")

    assert "Topic 7 — 80 msg · 6 members\nGeneral — 20 msg · 4 members" in card


async def test_members_card_shows_flow_churn_inviters_and_days(gateway: Harness) -> None:
    """/members: joins via link and added, leaves, churn, top inviters, and only the days
    with joins or leaves."""
    card = await _card(gateway, "/members 2025-11-01..2025-11-07")

    assert "Joined: 3 (via link 2 · added 1) · Left: 1" in card
    assert "Churn: 1 of 3 who joined left (33%)" in card
    assert "Added most:\n1. @ann — 1" in card
    assert card.endswith("Per day:\n01.11 +3 −1")


async def test_members_card_shows_the_member_count_or_says_none_was_taken(
    gateway: Harness,
) -> None:
    """/members: the period's first and last member count and the change; a chat without a
    snapshot in the period gets a sentence, not a number."""
    card = await _card(gateway, "/members 2025-11-01..2025-11-07")
    assert "Members: 1,200 on 01.11 → 1,187 on 03.11 (−13)" in card

    gateway.session.requests.clear()
    none = await _card(gateway, "/members 2025-11-01..2025-11-07", chat_id=GROUP - 1)
    assert "Members: no count taken in this period" in none
    assert "Joined: 3" in none


async def test_words_of_a_chat_without_text_is_the_note(gateway: Harness) -> None:
    """/words where text is not stored: the read model's refusal as the card's note (in
    Russian for a Russian speaker), no words."""
    card = await _card(gateway, "/words")
    assert NO_TEXT in card

    gateway.session.requests.clear()
    russian = await _card(gateway, "/words", language="ru")
    assert "не хранит текст" in russian


async def test_words_lists_the_top_words_per_language(gateway: Harness) -> None:
    """/words in a chat that stores text: each language's words with their counts."""
    card = await _card(gateway, "/words", chat_id=GROUP - 1)

    assert "en: release 9" in card and "ru: релиз 4" in card


async def test_a_bad_period_gets_the_reason_and_asks_nothing(gateway: Harness) -> None:
    """``/content банан`` from a Russian speaker: the reason, in Russian; no request."""
    today = datetime.now(UTC).date()
    with pytest.raises(ReportPeriodError) as refused:
        read_report_arguments("content", "банан", today=today, language="ru")

    await gateway.feed(_message("/content банан", language="ru"))

    [reply] = gateway.session.sent()
    assert reply.text == refused.value.message
    assert _requests(gateway) == []


async def test_the_group_menu_lists_the_new_commands_in_both_languages() -> None:
    """setMyCommands for all groups names /content ... /words, in English and Russian."""
    session = RecordingSession()

    assert await register_commands(Bot(DEFAULT_TOKEN, session=session))

    calls = [m for m in session.requests if isinstance(m, SetMyCommands)]
    groups = [call for call in calls if call.scope and call.scope.type == "all_group_chats"]
    assert [call.language_code for call in groups] == [None, "ru"]
    new = {"content", "reactions", "replies", "topics", "members", "words"}
    for call in groups:
        assert new <= {command.command for command in call.commands}


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(42, "42 s"), (330, "5 min"), (3 * 3600 + 125, "3 h 2 min"), (2 * 86400 + 7200, "2 d 2 h")],
)
def test_delays_read_as_people_say_them(seconds: float, said: str) -> None:
    assert delay(seconds, "en") == said


async def test_an_executor_refusal_is_said_as_it_came(gateway: Harness) -> None:
    """A report with ``error`` set (the executor could not make it): that sentence, no card."""
    await gateway.feed(_message("/topics", chat_id=BROKEN))

    [reply] = gateway.session.sent()
    assert reply.text == say("report_failed", "en")


async def test_each_command_is_counted_by_its_name(gateway: Harness) -> None:
    """``tally_commands_total`` has a label for each of the new commands (not ``other``)."""
    await gateway.feed(_message("/members"))

    assert gateway.sample("tally_commands_total", command="members") == 1
    assert gateway.sample("tally_commands_total", command="other") == 0
