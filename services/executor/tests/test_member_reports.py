"""The executor's member reports (/me, /user, /top by a measure) on real PostgreSQL, against
figures computed from the same chat events (tests/factories/group_chat.py, written through
ChatWriter; the reference figures are those of libs/chatstore/tests/test_group_reports.py)."""

from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.chatstore.tests.test_group_reports import CHATS, LABELS, figures, top
from tally.chatstore.read import MEASURES
from tally.chatstore.tables import CHAT_TABLES
from tally.chatstore.write.writer import ChatWriter
from tally.contracts.chat_reports import ChatReportRequested
from tally.contracts.group_reports import MemberMeasure
from tally.executor.reports import build_report
from tally.executor.reports_members import UNKNOWN_MEMBER, UnknownMemberError
from tally.infra.db.session import create_engine
from tests.factories.group_chat import ANN, BOB, GROUP, USER_IDS, WEEK_END, WEEK_START

NOW = datetime(2025, 10, 12, 12, tzinfo=UTC)
"""Noon of the week's last day: "the last 7 days" are the factory's week."""


@pytest.fixture(scope="module")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """Both chats of the factory, written through ChatWriter; removed afterwards."""
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


def _request(**fields: object) -> ChatReportRequested:
    return ChatReportRequested.model_validate(
        {"chat_id": GROUP, "timezone": "Europe/Berlin", **fields}
    )


@pytest.mark.parametrize("chat_id", list(CHATS))
async def test_me_reports_the_askers_figures_in_this_chat(
    engine: AsyncEngine, chat_id: int
) -> None:
    """/me (kind member, the asker's id, the last 7 days): Bob's figures of this week and the
    one before, of this chat only, on the chat's calendar."""
    chat = CHATS[chat_id]
    zone = chat.settings.settings.timezone
    request = _request(chat_id=chat_id, kind="member", user_id=BOB.user_id, timezone=zone)
    async with engine.connect() as db:
        report = await build_report(request, db, now=NOW)
    assert report.member is not None and report.error is None
    assert (report.first, report.last) == (WEEK_START, WEEK_END)
    assert report.member.member.label == LABELS[BOB.user_id]
    period = chat.period
    assert report.member.figures.model_dump() == figures(chat, BOB.user_id, period)
    assert report.member.previous.model_dump() == figures(chat, BOB.user_id, period.previous())


async def test_user_finds_the_member_by_username(engine: AsyncEngine) -> None:
    """/user @ANN (any case, with or without @) reports Ann over the days asked."""
    request = _request(kind="member", username="ANN", first=WEEK_START, last=WEEK_END)
    async with engine.connect() as db:
        report = await build_report(request, db, now=NOW)
    assert report.member is not None and report.member.member.user_id == ANN.user_id
    chat = CHATS[GROUP]
    assert report.member.figures.model_dump() == figures(chat, ANN.user_id, chat.period)


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_an_unknown_username_is_a_sentence(engine: AsyncEngine, language: str) -> None:
    """@nobody is no member: the report is refused with a sentence naming them, in the asker's
    language (answer_report turns it into ``error``)."""
    request = _request(kind="member", username="nobody", language=language)
    async with engine.connect() as db:
        with pytest.raises(UnknownMemberError) as refused:
            await build_report(request, db, now=NOW)
    assert refused.value.message == UNKNOWN_MEMBER[language].format(name="nobody")  # type: ignore[index]


@pytest.mark.parametrize("chat_id", list(CHATS))
@pytest.mark.parametrize("by", MEASURES)
async def test_top_ranks_by_each_measure(
    engine: AsyncEngine, chat_id: int, by: MemberMeasure
) -> None:
    """/top 3 by <measure>: the three members with the most of it this week, this chat only."""
    chat = CHATS[chat_id]
    period = chat.period
    if by in ("messages", "words"):
        expected = chat.posted(period, by)
    elif by == "reactions":
        expected = chat.received(period)
    else:
        expected = Counter(a for r, a, _ in chat.replies(period) if a is not None and r != a)
    zone = chat.settings.settings.timezone
    request = _request(chat_id=chat_id, kind="top", limit=3, by=by, timezone=zone)
    async with engine.connect() as db:
        report = await build_report(request, db, now=NOW)
    assert report.top is not None and report.top.by == by
    assert [(item.member.label, item.count) for item in report.top.items] == top(expected, 3)
    assert len(report.top_users) <= 3
