"""/me, /user @name, "my stats" to the bot and /top by a measure in a group, without any
server: updates fed to the Dispatcher, a Bot whose session answers from memory, and an
in-memory bus whose executor answers member and top reports made up here."""

import itertools
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiogram import Bot
from faststream.nats import TestNatsBroker
from prometheus_client import CollectorRegistry

from services.gateway.tests.test_dispatcher import SUBJECTS, Harness
from services.gateway.tests.test_group_commands import (
    GROUP,
    MEMBER,
    GroupSession,
    _group_message,
    _requests,
    _settings,
)
from tally.contracts.chat_reports import ChatReport, ChatReportRequested
from tally.contracts.group_reports import (
    HourCount,
    Member,
    MemberCount,
    MemberFigures,
    MemberStats,
    TopMembers,
)
from tally.gateway.app import create_broker_for
from tally.gateway.context import GatewayContext
from tally.gateway.domain.personal import member_card, top_card
from tally.gateway.domain.texts import say
from tally.gateway.handlers import provide_context
from tally.gateway.metrics import GatewayMetrics
from tally.gateway.telegram.dispatcher import create_dispatcher, release_routers
from tally.gateway.telegram.personal import OWN_STATS_PHRASES, own_stats_phrase
from tally.testing.kv import MemoryKeyValue
from tally.testing.telegram import DEFAULT_TOKEN

UNKNOWN = "No member @{name} has written in this chat."
_counts = itertools.count(1)
PIA = Member(user_id=MEMBER, username="pia", label="@pia")
ODD = Member(user_id=73, first_name="<b>Rob</b>", label="<b>Rob</b>")
"""A member whose chosen name is markup: it must reach the chat escaped."""


def _figures(first: date, last: date, messages: int) -> MemberFigures:
    return MemberFigures(
        start=first,
        end=last,
        messages=messages,
        words=messages * 5,
        active_days=3,
        rank=2,
        longest_streak=2,
        reactions_received=4,
        reactions_given=1,
    )


def _member(request: ChatReportRequested, first: date, last: date) -> MemberStats:
    who = PIA if request.user_id == MEMBER else ODD
    shift = timedelta(days=(last - first).days + 1)
    return MemberStats(
        chat_id=request.chat_id,
        timezone=request.timezone,
        member=who,
        figures=_figures(first, last, 12),
        previous=_figures(first - shift, last - shift, 8),
        favourite_hours=[HourCount(hour=21, messages=5), HourCount(hour=9, messages=3)],
        replies_to=[MemberCount(member=ODD, count=3)],
        replied_by=[],
    )


def _answer(request: ChatReportRequested) -> ChatReport:
    """What the test executor says: ``@nobody`` is no member; others get made-up figures."""
    first, last = request.span(datetime.now(UTC).date())
    report = ChatReport(
        chat_id=request.chat_id,
        kind=request.kind,
        timezone=request.timezone,
        first=first,
        last=last,
    )
    if request.kind == "member" and request.username == "nobody":
        return report.model_copy(update={"error": UNKNOWN.format(name=request.username)})
    if request.kind == "member":
        return report.model_copy(update={"member": _member(request, first, last)})
    if request.kind == "top":
        items = [MemberCount(member=ODD, count=9), MemberCount(member=PIA, count=4)]
        top = TopMembers(chat_id=GROUP, start=first, end=last, by=request.by, items=items)
        return report.model_copy(update={"top": top})
    return report


@pytest.fixture
async def gateway() -> AsyncIterator[Harness]:
    """A gateway on an in-memory bus whose report requests :func:`_answer` answers."""
    settings = _settings(0)
    broker = create_broker_for(settings, SUBJECTS)
    session = GroupSession()
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
        return _answer(request)

    async with TestNatsBroker(broker):
        yield harness
    release_routers(harness.dispatcher)


async def test_me_asks_for_the_askers_own_stats(gateway: Harness) -> None:
    """``/me last 30 days``: a member report on the asker's id over those days; the card
    shows their figures against the previous period."""
    await gateway.feed(_group_message("/me last 30 days", user_id=MEMBER))

    [request] = _requests(gateway)
    today = datetime.now(UTC).date()
    assert (request.kind, request.user_id, request.username) == ("member", MEMBER, None)
    assert (request.first, request.last) == (today - timedelta(days=29), today)
    [card] = gateway.session.sent()
    assert card.text == member_card(_answer(request), "en")
    assert "@pia" in card.text and "Messages: 12 (+50%)" in card.text
    assert "Words: 60 (+50%)" in card.text and "Rank by messages: #2" in card.text
    assert "21:00 (5)" in card.text and "&lt;b&gt;Rob&lt;/b&gt; (3)" in card.text
    assert "<b>Rob</b>" not in card.text


async def test_user_asks_for_the_named_member(gateway: Harness) -> None:
    """``/user @Rob_73 2025-11``: a member report on that username (without the @), for
    November; the member's chosen name is escaped in the card."""
    await gateway.feed(_group_message("/user @Rob_73 2025-11", user_id=MEMBER))

    [request] = _requests(gateway)
    assert (request.kind, request.user_id, request.username) == ("member", None, "Rob_73")
    assert (request.first, request.last) == (date(2025, 11, 1), date(2025, 11, 30))
    [card] = gateway.session.sent()
    assert card.text.startswith("👤 <b>&lt;b&gt;Rob&lt;/b&gt;</b>, 1–30 Nov 2025 (UTC)")


async def test_an_unknown_member_gets_the_executors_sentence(gateway: Harness) -> None:
    """``/user @nobody``: the executor's sentence is the reply, as it is."""
    await gateway.feed(_group_message("/user @nobody", user_id=MEMBER))

    [reply] = gateway.session.sent()
    assert reply.text == UNKNOWN.format(name="nobody")


async def test_user_without_a_name_is_told_how(gateway: Harness) -> None:
    """``/user`` alone asks nothing and says how to name a member, in the asker's language."""
    await gateway.feed(_group_message("/user", user_id=MEMBER, language="ru"))

    assert _requests(gateway) == []
    [reply] = gateway.session.sent()
    assert reply.text == say("user_usage", "ru")


@pytest.mark.parametrize(
    "text", ["@tally_bot моя статистика", "/ask How am I doing?", "@tally_bot как мои дела?"]
)
async def test_my_stats_to_the_bot_is_me(gateway: Harness, text: str) -> None:
    """An own-stats phrase to the bot (a mention or /ask) is /me over the default week, not
    a question for nl2sql; the card is in the phrase's language."""
    await gateway.feed(_group_message(text, user_id=MEMBER))

    [request] = _requests(gateway)
    assert (request.kind, request.user_id, request.days) == ("member", MEMBER, 7)
    assert gateway.published.get(SUBJECTS.question_asked) is None
    [card] = gateway.session.sent()
    assert card.text == member_card(_answer(request), request.language)
    if "моя" in text or "как" in text:
        assert request.language == "ru" and "Сообщения: 12" in card.text


def test_own_stats_phrases_are_exact() -> None:
    """Only the listed phrases (case, spaces, a final ?/!/. aside) are own-stats questions."""
    assert own_stats_phrase("  My   Stats?! ") and own_stats_phrase("Моя статистика.")
    assert not own_stats_phrase("my stats last year")
    assert not own_stats_phrase("how many messages did I send?")
    assert all(own_stats_phrase(phrase) for phrase in OWN_STATS_PHRASES)


async def test_top_by_reactions_is_asked_and_shown(gateway: Harness) -> None:
    """``/top 5 by reactions``: a top 5 ranked by reactions received, shown as a top by
    reactions with the counts, names escaped."""
    await gateway.feed(_group_message("/top 5 by reactions", user_id=MEMBER))

    [request] = _requests(gateway)
    assert (request.kind, request.limit, request.by) == ("top", 5, "reactions")
    [card] = gateway.session.sent()
    assert card.text == top_card(_answer(request), "en")
    assert "Top by reactions received" in card.text
    assert "1. &lt;b&gt;Rob&lt;/b&gt; — 9\n2. @pia — 4" in card.text
