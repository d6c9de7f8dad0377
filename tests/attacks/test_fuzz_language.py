"""Fuzzing the language engine with hypothesis: any text, in any mix of question words,
numbers, dates, SQL fragments and odd unicode, is read into a plan, readings or a refusal
without an exception; every plan compiles, and runs on PostgreSQL inside a read-only
transaction, so no question can write."""

import asyncio
from collections.abc import Iterator
from datetime import date

import asyncpg
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tally.infra.db.session import asyncpg_dsn
from tally.language.parser import parse
from tally.language.refusal import Readings, Refusal
from tally.semantic import catalog
from tally.semantic.compiler import compile_plan
from tally.semantic.plan import QueryPlan
from tests.accuracy.grouped import GROUPED
from tests.accuracy.questions import ANSWERABLE

TODAY = date(2025, 11, 28)
CHAT_ID = -100_777
_ENGLISH = (
    "how many what which top total sum average max min videos video views likes comments "
    "reports creators creator gained grew per day hour in on since between from to and or "
    "not no zero more than less at least by the last week yesterday today month messages "
    "people joined left here this chat who wrote most"
)
_RUSSIAN = (
    "сколько всего видео просмотров лайков комментариев креатор креатора набрали больше "
    "меньше чем за по дням часам вчера сегодня неделе ноября октября с до сообщений кто "
    "писал в этом чате топ антитоп"
)
WORDS = [
    *_ENGLISH.split(" "),
    *_RUSSIAN.split(" "),
    "28 ноября 2025",
    "10:00",
    "15:00",
    "1 000",
    "100000",
    "-5",
    "1e9",
    "3.5",
    "2025-11-28",
    "aca1061a9d324ecf8c3fa2bb32d7be63",
    "00000000-0000-0000-0000-000000000000",
    "'; DROP TABLE videos; --",
    "UNION SELECT",
    "pg_sleep(10)",
    "\u202e",
    "\u200b",
    "\x00",
    "🔥",
    "ＳＥＬＥＣＴ",
    "%",
    "_",
    "\\",
    '"',
    "$1",
    "/*",
    "*/",
]
SEEDS = [case.text for case in (*ANSWERABLE, *GROUPED)]


@st.composite
def mutated_question(draw: st.DrawFn) -> str:
    """A question of the accuracy set with up to three words inserted, deleted or replaced."""
    words = draw(st.sampled_from(SEEDS)).split()
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(words)))
        edit = draw(st.sampled_from(["insert", "delete", "replace"]))
        word = draw(st.one_of(st.sampled_from(WORDS), st.text(min_size=1, max_size=6)))
        if edit == "insert" or not words:
            words.insert(at, word)
        elif edit == "delete":
            del words[min(at, len(words) - 1)]
        else:
            words[min(at, len(words) - 1)] = word
    return " ".join(words)


TEXTS = st.one_of(
    mutated_question(),
    mutated_question(),
    mutated_question(),
    st.lists(st.sampled_from(WORDS), min_size=1, max_size=14).map(" ".join),
    st.text(max_size=200),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=8)), max_size=10).map(" ".join),
)


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def connection(loop: asyncio.AbstractEventLoop, database_url: str) -> Iterator[asyncpg.Connection]:
    connection = loop.run_until_complete(asyncpg.connect(**asyncpg_dsn(database_url)))
    loop.run_until_complete(connection.execute("SET statement_timeout = '5s'"))
    yield connection
    loop.run_until_complete(connection.close())


def _plans(result: QueryPlan | Readings | Refusal) -> list[QueryPlan]:
    if isinstance(result, QueryPlan):
        return [result]
    if isinstance(result, Readings):
        return list(result.plans)
    return []


async def _run_read_only(connection: asyncpg.Connection, plan: QueryPlan) -> None:
    chat_id = CHAT_ID if catalog().chat_scoped(plan.dataset) else None
    query = compile_plan(plan, chat_id)
    async with connection.transaction(readonly=True):
        await connection.fetch(query.sql, *query.args)


@settings(
    max_examples=600, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=TEXTS, language=st.sampled_from(["en", "ru"]))
def test_any_text_is_read_without_an_exception_and_runs_read_only(
    text: str,
    language: str,
    loop: asyncio.AbstractEventLoop,
    connection: asyncpg.Connection,
) -> None:
    """parse() returns a plan, readings or a refusal for any text; a refusal carries a
    sentence; each plan survives a JSON round trip and runs in a read-only transaction."""
    result = parse(text, language=language, today=TODAY)  # type: ignore[arg-type]
    assert isinstance(result, QueryPlan | Readings | Refusal)
    if isinstance(result, Refusal):
        assert result.reason.strip()
    event(type(result).__name__)
    for plan in _plans(result):
        assert QueryPlan.model_validate_json(plan.model_dump_json()) == plan
        loop.run_until_complete(_run_read_only(connection, plan))
