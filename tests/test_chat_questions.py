"""Chat questions on real PostgreSQL: parsed by the built-in parser, answered by the executor,
and confined to the group they were asked in, whatever the plan says.

The rows live in August 2024 (no other test writes there), in two chats of this run.
"""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from random import Random
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from tally.chatstore.write.partitions import ensure_message_partitions
from tally.contracts.events import Language, QueryPlanned, QuestionAnswered, QuestionAsked
from tally.executor.answering import answer
from tally.executor.config import ExecutorSettings
from tally.executor.runner import Reader
from tally.infra.db.session import asyncpg_dsn
from tally.infra.settings import CommonSettings, to_asyncpg_url
from tally.language import parse
from tally.semantic.plan import Aggregate, Dataset, Filter, Measure, Op, QueryPlan

HERE, OTHER = -100_424_242, -100_535_353
TODAY = date(2024, 8, 31)
USERS = {7001: "alice", 7002: "bob", 7003: None}
"""Users of this run; 7003 has no username (labelled by name)."""


def _messages() -> list[tuple[int, int, int, datetime]]:
    """(chat, message id, user, sent at): HERE has 30 in August, OTHER 50 more."""
    rng = Random(4)
    rows = []
    for chat, count in ((HERE, 30), (OTHER, 50)):
        for message_id in range(1, count + 1):
            day, hour = rng.randint(1, 31), rng.randint(0, 23)
            user = rng.choice([7001, 7001, 7002, 7003])
            rows.append((chat, message_id, user, datetime(2024, 8, day, hour, tzinfo=UTC)))
    return rows


MESSAGES = _messages()


@pytest.fixture(scope="module")
async def chats(settings: CommonSettings) -> AsyncIterator[None]:
    """Both chats' messages, users and joins (ingest's job, done here by hand); removed after."""
    engine = create_async_engine(to_asyncpg_url(settings.database_url))
    async with engine.begin() as connection:
        await ensure_message_partitions(connection, [date(2024, 8, 1)])
    await engine.dispose()
    database = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    now = datetime(2024, 8, 1, tzinfo=UTC)
    for user_id, username in USERS.items():
        await database.execute(
            "INSERT INTO users (user_id, username, first_name, is_bot, first_seen_at,"
            " last_seen_at) VALUES ($1, $2, $3, false, $4, $4) ON CONFLICT DO NOTHING",
            user_id,
            username,
            f"Name{user_id}",
            now,
        )
    await database.executemany(
        "INSERT INTO messages (chat_id, message_id, user_id, sent_at, message_type, text_length,"
        " word_count, forwarded, links, mentions, hashtags)"
        " VALUES ($1, $2, $3, $4, 'text', 10, 2, false, 0, 0, 0)",
        MESSAGES,
    )
    joins = [
        (f"j{chat}-{user}", chat, user, datetime(2024, 8, 5, tzinfo=UTC))
        for chat in (HERE, OTHER)
        for user in USERS
    ]
    await database.executemany(
        "INSERT INTO member_events VALUES ($1, $2, $3, 'join', NULL, false, $4)", joins
    )
    yield
    await database.execute("DELETE FROM messages WHERE chat_id = ANY($1::bigint[])", [HERE, OTHER])
    await database.execute(
        "DELETE FROM member_events WHERE chat_id = ANY($1::bigint[])", [HERE, OTHER]
    )
    await database.close()


async def _ask(
    settings: CommonSettings,
    text: str,
    chat_id: int,
    language: Language = "en",
    zone: str = "UTC",
) -> QuestionAnswered:
    plan = parse(text, language=language, today=TODAY, chat_zone=zone)
    assert isinstance(plan, QueryPlan), plan
    return await _answer(settings, plan, chat_id, language)


async def _answer(
    settings: CommonSettings, plan: QueryPlan, chat_id: int, language: Language = "en"
) -> QuestionAnswered:
    reader = Reader(ExecutorSettings(**settings.model_dump()))
    question = QuestionAsked(
        channel="telegram", chat_id=chat_id, user_id=7001, language=language, text="q"
    )
    try:
        return await answer(QueryPlanned(question=question, plan=plan, planned_ms=0.1), reader)
    finally:
        await reader.close()


def _in_here(predicate: object = None) -> list[tuple[int, int, int, datetime]]:
    return [row for row in MESSAGES if row[0] == HERE and (predicate is None or predicate(row))]  # type: ignore[operator]


async def test_messages_are_counted_in_the_asking_chat_only(
    chats: None, settings: CommonSettings
) -> None:
    """ "How many messages were sent here in August 2024?" counts this chat's messages, not
    the other chat's."""
    result = await _ask(settings, "How many messages were sent here in August 2024?", HERE)
    assert result.outcome == "answered", result.reason
    assert result.value == len(_in_here())
    other = await _ask(settings, "How many messages were sent here in August 2024?", OTHER)
    assert other.value == 50


async def test_a_plan_naming_another_chat_still_reads_only_the_asking_one(
    chats: None, settings: CommonSettings
) -> None:
    """A plan (say, from an LLM) filtering on another chat's id gets nothing from it: the
    executor adds the asking chat itself, so the two conditions meet in no row."""
    plan = QueryPlan(
        dataset=Dataset.MESSAGES,
        measure=Measure(aggregate=Aggregate.COUNT),
        filters=(Filter(column="chat_id", op=Op.EQ, value=OTHER),),
        interpretation="messages of the other chat",
    )
    result = await _answer(settings, plan, HERE)
    assert result.outcome == "answered"
    assert result.value == 0


async def test_chat_questions_outside_a_group_are_refused(
    chats: None, settings: CommonSettings
) -> None:
    """Asked in a private chat (a positive id), a chat question is refused with a sentence,
    in the asker's language, and no SQL runs."""
    result = await _ask(settings, "сколько сообщений в этом чате", 7001, "ru")
    assert result.outcome == "refused"
    assert result.reason and "группе" in result.reason
    assert result.sql is None


async def test_who_wrote_the_most_is_labelled_by_username(
    chats: None, settings: CommonSettings
) -> None:
    """ "Кто больше всех писал в августе 2024?" names the top writer by @username."""
    result = await _ask(settings, "Кто больше всех писал в августе 2024?", HERE, "ru")
    counts = {user: sum(1 for row in _in_here() if row[2] == user) for user in USERS}
    top = max(counts, key=lambda user: counts[user])
    assert [(row.label, row.value) for row in result.rows] == [(f"@{USERS[top]}", counts[top])]


async def test_top_people_and_people_without_username(
    chats: None, settings: CommonSettings
) -> None:
    """A top list of people ranks by messages; one without a username shows their name."""
    result = await _ask(settings, "top 3 people by messages in August 2024", HERE)
    counts = {user: sum(1 for row in _in_here() if row[2] == user) for user in USERS}
    label = {7001: "@alice", 7002: "@bob", 7003: "Name7003"}
    expected = sorted(((label[u], c) for u, c in counts.items()), key=lambda p: (-p[1], p[0]))
    assert [(row.label, row.value) for row in result.rows] == expected


async def test_people_who_joined_and_who_wrote(chats: None, settings: CommonSettings) -> None:
    """People are counted once each: three joined this chat in August; those who wrote on
    the busiest day are its distinct senders."""
    joined = await _ask(settings, "How many people joined in August 2024?", HERE)
    assert joined.value == 3
    day = max(range(1, 32), key=lambda d: len(_in_here(lambda r: r[3].day == d)))
    senders = {row[2] for row in _in_here(lambda r: r[3].day == day)}
    wrote = await _ask(settings, f"How many people wrote here on August {day}, 2024?", HERE)
    assert wrote.value == len(senders)


async def test_days_are_the_chats_own(chats: None, settings: CommonSettings) -> None:
    """In a Berlin chat, "on August 10, 2024" is the Berlin day (22:00 UTC the evening
    before to 22:00 UTC), and a daily series buckets by Berlin days."""
    zone = ZoneInfo("Europe/Berlin")

    def berlin_day(row: tuple[int, int, int, datetime]) -> date:
        return row[3].astimezone(zone).date()

    result = await _ask(
        settings, "How many messages were sent here on August 10, 2024?", HERE, zone="Europe/Berlin"
    )
    assert result.value == len(_in_here(lambda r: berlin_day(r) == date(2024, 8, 10)))
    assert result.interpretation and "(Europe/Berlin)" in result.interpretation
    daily = await _ask(
        settings, "messages per day from August 1 to 31, 2024", HERE, zone="Europe/Berlin"
    )
    expected = [
        (day.isoformat(), len(_in_here(lambda r, d=day: berlin_day(r) == d)))
        for day in (date(2024, 8, n) for n in range(1, 32))
    ]
    assert [(row.label, row.value) for row in daily.rows] == expected
