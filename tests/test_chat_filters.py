"""Chat questions that filter on who sent a message and what it holds, on real PostgreSQL:
one person by name or @username (refused when the name is nobody's, or two people's), everyone
but bots, messages with hashtags, photos. The rows live in July 2024, in a chat of this run."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

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
from tally.semantic.plan import QueryPlan

CHAT = -100_717_171
TODAY = date(2024, 7, 31)
PEOPLE = {
    7101: ("anna_k", "Anna", False),
    7102: ("annie", "Anna", False),
    7103: ("boris_p", "Boris", False),
    7104: ("helper_bot", "Helper", True),
    7105: (None, "Мария", False),
    7106: ("masha", "Мария", False),
}
"""user id: (username, first name, is a bot). Two people are called Anna, two Мария."""
# (user, message type, hashtags) per message
ROWS = [
    (7101, "text", 1), (7101, "photo", 0), (7101, "text", 0),
    (7102, "text", 2), (7102, "text", 0),
    (7103, "photo", 0), (7103, "photo", 1), (7103, "text", 0), (7103, "text", 0),
    (7104, "text", 0), (7104, "text", 3),
    (7105, "text", 0), (7106, "text", 0),
]  # fmt: skip


@pytest.fixture(scope="module")
async def chat(settings: CommonSettings) -> AsyncIterator[None]:
    """The chat's people and messages (ingest's job, done here by hand); removed after."""
    engine = create_async_engine(to_asyncpg_url(settings.database_url))
    async with engine.begin() as connection:
        await ensure_message_partitions(connection, [date(2024, 7, 1)])
    await engine.dispose()
    database = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    seen = datetime(2024, 7, 1, tzinfo=UTC)
    for user_id, (username, first_name, bot) in PEOPLE.items():
        await database.execute(
            "INSERT INTO users (user_id, username, first_name, is_bot, first_seen_at,"
            " last_seen_at) VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING",
            *(user_id, username, first_name, bot, seen),
        )
    await database.executemany(
        "INSERT INTO messages (chat_id, message_id, user_id, sent_at, message_type, text_length,"
        " word_count, forwarded, links, mentions, hashtags)"
        " VALUES ($1, $2, $3, $4, $5, 10, 2, false, 0, 0, $6)",
        [
            (CHAT, n, user, datetime(2024, 7, 1 + n, 12, tzinfo=UTC), kind, tags)
            for n, (user, kind, tags) in enumerate(ROWS, start=1)
        ],
    )
    yield
    await database.execute("DELETE FROM messages WHERE chat_id = $1", CHAT)
    await database.execute("DELETE FROM users WHERE user_id = ANY($1::bigint[])", list(PEOPLE))
    await database.close()


async def _ask(settings: CommonSettings, text: str, language: Language = "en") -> QuestionAnswered:
    plan = parse(text, language=language, today=TODAY)
    assert isinstance(plan, QueryPlan), plan
    reader = Reader(ExecutorSettings(**settings.model_dump()))
    question = QuestionAsked(
        channel="telegram", chat_id=CHAT, user_id=7101, language=language, text=text
    )
    try:
        return await answer(QueryPlanned(question=question, plan=plan, planned_ms=0.1), reader)
    finally:
        await reader.close()


async def test_one_person_by_name(chat: None, settings: CommonSettings) -> None:
    """ "How many messages did Boris write" counts Boris's messages only."""
    result = await _ask(settings, "How many messages did Boris write here in July 2024?")
    assert (result.outcome, result.value) == ("answered", 4), result.reason
    assert "boris" in (result.interpretation or "")


async def test_one_person_by_username(chat: None, settings: CommonSettings) -> None:
    """An @username names one account, even when its first name is shared."""
    result = await _ask(settings, "How many messages did @anna_k send here in July 2024?")
    assert (result.outcome, result.value) == ("answered", 3), result.reason


@pytest.mark.parametrize(
    ("text", "language", "reason"),
    [
        ("How many messages did Anna write here in July 2024?", "en", "2 people"),
        ("Сколько сообщений написала Мария здесь в июле 2024?", "ru", "2 человека"),
        ("How many messages did Zoltan write here in July 2024?", "en", "No one called"),
    ],
)
async def test_a_name_that_is_not_one_person_is_refused(
    chat: None, settings: CommonSettings, text: str, language: Language, reason: str
) -> None:
    """Two Annas, or no Zoltan: refused with a sentence, never a sum or a 0."""
    result = await _ask(settings, text, language)
    assert result.outcome == "refused" and reason in (result.reason or ""), result


async def test_everyone_but_bots(chat: None, settings: CommonSettings) -> None:
    """ "не считая ботов" leaves the bot out of the people who wrote."""
    result = await _ask(
        settings, "Сколько человек писали здесь в июле 2024, не считая ботов?", "ru"
    )
    assert (result.outcome, result.value) == ("answered", 5), result.reason
    assert "ботов" in (result.interpretation or "")


async def test_messages_with_hashtags(chat: None, settings: CommonSettings) -> None:
    """Messages with at least one hashtag, the bot's included."""
    result = await _ask(settings, "How many messages with hashtags were sent here in July 2024?")
    assert (result.outcome, result.value) == ("answered", 4), result.reason


async def test_photos(chat: None, settings: CommonSettings) -> None:
    """ "Сколько фото" counts the messages of type photo."""
    result = await _ask(settings, "Сколько фото прислали здесь в июле 2024?", "ru")
    assert (result.outcome, result.value) == ("answered", 3), result.reason
