"""What is captured, answered by the executor: for each new report kind the ChatReport
carries exactly the read model's result for the same chat and period (the dashboard's
numbers), and nothing of another chat.

Both chats of tests/factories/group_chat.py are written through ingest's ChatWriter into
a real PostgreSQL and read back through the executor's read-only pool.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.chatstore import read
from tally.chatstore.read import Period
from tally.chatstore.tables import CHAT_TABLES
from tally.chatstore.write.writer import ChatWriter
from tally.contracts.chat_events import MessagePosted
from tally.contracts.chat_reports import ChatReportRequested, ReportKind
from tally.executor.config import ExecutorSettings
from tally.executor.reports import answer_report
from tally.executor.runner import Reader
from tally.infra.db.session import create_engine
from tally.infra.settings import CommonSettings
from tests.factories.group_chat import (
    ELSEWHERE,
    GROUP,
    USER_IDS,
    WEEK_END,
    WEEK_START,
    elsewhere_events,
    group_events,
)

ZONES = {GROUP: "Europe/Berlin", ELSEWHERE: "UTC"}
Expected = Callable[[read.Database, int, Period], Awaitable[BaseModel]]
KINDS: dict[ReportKind, tuple[str, Expected]] = {
    "content": ("content", read.content_breakdown),
    "reactions": ("reactions", lambda db, chat, p: read.reaction_stats(db, chat, p, 10)),
    "replies": ("replies", lambda db, chat, p: read.reply_stats(db, chat, p, 10)),
    "topics": ("topics", read.topic_activity),
    "members": ("flow", lambda db, chat, p: read.member_flow(db, chat, p, 10)),
    "words": ("words", read.top_words),
}
"""Each kind: the ChatReport field and the read model call the dashboard makes."""


@pytest.fixture(scope="module")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """Both chats written through ChatWriter, removed afterwards."""
    engine = create_engine(database_url)
    writer = ChatWriter(engine)
    for events in (group_events(), elsewhere_events()):
        await writer.write(events[:1])  # the settings first
        await writer.write(events[1:])
    yield engine
    async with engine.begin() as connection:
        for table in CHAT_TABLES:
            if "chat_id" in table.c:
                await connection.execute(table.delete().where(table.c.chat_id.in_(list(ZONES))))
        await connection.execute(
            text("DELETE FROM users WHERE user_id = ANY(:ids)"), {"ids": USER_IDS}
        )
    await engine.dispose()


@pytest.fixture
async def reader(settings: CommonSettings) -> AsyncIterator[Reader]:
    reader = Reader(ExecutorSettings(**settings.model_dump()))
    yield reader
    await reader.close()


def _week(chat_id: int, kind: ReportKind) -> ChatReportRequested:
    return ChatReportRequested(
        chat_id=chat_id, kind=kind, first=WEEK_START, last=WEEK_END, timezone=ZONES[chat_id]
    )


@pytest.mark.parametrize("chat_id", list(ZONES))
@pytest.mark.parametrize("kind", list(KINDS))
async def test_the_report_is_the_read_models_result(
    engine: AsyncEngine, reader: Reader, kind: ReportKind, chat_id: int
) -> None:
    """The report of the week carries the read model's result for that chat, week and zone
    (what the dashboard returns), with the period and zone it was read in."""
    field, expected = KINDS[kind]
    period = Period(WEEK_START, WEEK_END, ZoneInfo(ZONES[chat_id]))

    report = await answer_report(_week(chat_id, kind), reader)

    async with engine.connect() as connection:
        assert getattr(report, field) == await expected(connection, chat_id, period)
    assert report.error is None
    assert (report.first, report.last, report.timezone) == (WEEK_START, WEEK_END, ZONES[chat_id])


async def test_content_counts_this_chats_messages_only(engine: AsyncEngine, reader: Reader) -> None:
    """Both chats use the same message ids: GROUP's content counts its own week's messages,
    links and hashtags (from its events), none of ELSEWHERE's."""
    week = Period(WEEK_START, WEEK_END, ZoneInfo(ZONES[GROUP]))
    sent = [
        e
        for e in group_events()
        if isinstance(e, MessagePosted) and week.utc_start <= e.occurred_at < week.utc_end
    ]

    report = await answer_report(_week(GROUP, "content"), reader)

    assert report.content is not None
    assert report.content.messages == len(sent)
    assert report.content.links == sum(m.links for m in sent)
    assert report.content.hashtags == sum(m.hashtags for m in sent)
    assert report.content.text_stored and report.content.top_hashtags


async def test_words_of_a_chat_without_text_are_the_refusal(
    reader: Reader, engine: AsyncEngine
) -> None:
    """ELSEWHERE stores no text: /words is the read model's refusal (no words, a reason),
    not an error."""
    report = await answer_report(_week(ELSEWHERE, "words"), reader)

    assert report.error is None and report.words is not None
    assert not report.words.text_stored and report.words.words == {}
    assert report.words.refusal


async def test_a_request_of_days_ends_today_in_the_chats_zone(
    engine: AsyncEngine, reader: Reader
) -> None:
    """``days=30`` without first/last: the 30 local days ending today in the chat's zone."""
    request = ChatReportRequested(chat_id=GROUP, kind="topics", days=30, timezone="Asia/Tokyo")

    report = await answer_report(request, reader)

    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Tokyo")).date()
    assert (report.first, report.last) == (today - timedelta(days=29), today)
    assert report.topics is not None and report.topics.start == report.first
