"""nl2sql with an LLM on real NATS: which engine answers which question, and what reaches
the bus (plans, LLM-written SQL, refusals, failures)."""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import nats
import pytest
from nats.aio.client import Client
from prometheus_client import CollectorRegistry

from tally.contracts.events import QueryPlanned, QuestionAnswered, QuestionAsked, SqlProposed
from tally.contracts.subjects import Subjects
from tally.infra.settings import CommonSettings
from tally.language import Refusal, parse
from tally.nl2sql.app import create_broker_for
from tally.nl2sql.config import Nl2sqlSettings
from tally.nl2sql.llm import texts
from tally.semantic.plan import Dataset
from tally.testing.llm import FakeLlm, Reply, plan_reply, sql_reply

from .conftest import SettingsFactory

TIMEOUT_S = 5.0
RANKING = "Which weekday brings the most views on average?"
"""A question the built-in parser refuses (rankings are not plans yet)."""
PLANNED = "How many videos are in the system?"
"""A question the built-in parser plans."""
COUNT_PLAN = {"dataset": "videos", "measure": {"aggregate": "count"}, "interpretation": "x"}


async def _running(
    settings: Nl2sqlSettings,
) -> AsyncIterator[tuple[CollectorRegistry, Subjects]]:
    registry = CollectorRegistry()
    broker = create_broker_for(settings, registry=registry)
    await broker.start()
    await broker.connection.flush()  # its subscriptions reach the server first
    yield registry, Subjects(settings.subject_prefix)
    await broker.stop()


@pytest.fixture(scope="module")
async def auto(
    llm_settings: SettingsFactory, subjects: Subjects
) -> AsyncIterator[tuple[CollectorRegistry, Subjects]]:
    """nl2sql with NL_ENGINE=auto and the fake LLM, on this run's prefix."""
    settings = llm_settings(nl_engine="auto", llm_breaker_failures=100)
    assert settings.subject_prefix == subjects.prefix
    async for running in _running(settings):
        yield running


@pytest.fixture(scope="module")
async def builtin(
    llm_settings: SettingsFactory, settings: CommonSettings
) -> AsyncIterator[tuple[CollectorRegistry, Subjects]]:
    """nl2sql with NL_ENGINE=builtin although an LLM is configured (own prefix)."""
    prefix = f"{settings.subject_prefix}b"
    async for running in _running(llm_settings(nl_engine="builtin", subject_prefix=prefix)):
        yield running


@pytest.fixture(scope="module")
async def no_llm(settings: CommonSettings) -> AsyncIterator[tuple[CollectorRegistry, Subjects]]:
    """nl2sql with the default engine (auto) and no LLM configured (own prefix)."""
    fields = settings.model_dump() | {"subject_prefix": f"{settings.subject_prefix}n"}
    async for running in _running(Nl2sqlSettings(**fields)):
        yield running


@pytest.fixture(scope="module")
async def client(settings: CommonSettings) -> AsyncIterator[Client]:
    connection = await nats.connect(settings.nats_url)
    yield connection
    await connection.close()


def question(text: str, language: str = "en") -> QuestionAsked:
    return QuestionAsked(
        channel="cli",
        chat_id=1,
        user_id=1,
        language=language,
        text=text,
        asked_at=datetime(2025, 12, 10, 12, 0, tzinfo=UTC),
    )


async def ask(client: Client, subjects: Subjects, asked: QuestionAsked, reply: str) -> bytes:
    """Publish ``asked`` on ``questions.asked``; the first message on subject ``reply``."""
    subscription = await client.subscribe(reply)
    await client.flush()
    await client.publish(subjects.question_asked, asked.model_dump_json().encode())
    message = await subscription.next_msg(timeout=TIMEOUT_S)
    await subscription.unsubscribe()
    return message.data


def answer_subject(subjects: Subjects, asked: QuestionAsked) -> str:
    return subjects.answer(asked.channel, str(asked.question_id))


def test_ranking_is_refused_by_the_parser() -> None:
    """The premise of these tests: the built-in parser refuses RANKING."""
    assert isinstance(parse(RANKING, language="en", today=date(2025, 12, 10)), Refusal)


async def test_parser_refusal_goes_to_the_llm(
    auto: tuple[CollectorRegistry, Subjects], client: Client, llm: FakeLlm
) -> None:
    """NL_ENGINE=auto: a question the parser refuses is read by the LLM, and its valid plan
    reaches ``plans.ready`` as a QueryPlanned with engine ``llm``."""
    registry, subjects = auto
    llm.script(Reply.json(plan_reply(COUNT_PLAN)))
    asked = question(RANKING)
    planned = QueryPlanned.model_validate_json(
        await ask(client, subjects, asked, subjects.plan_ready)
    )
    assert planned.question == asked
    assert planned.engine == "llm"
    assert planned.plan.dataset is Dataset.VIDEOS
    assert len(llm.requests) == 1
    labels = {"outcome": "planned", "language": "en", "engine": "llm"}
    assert registry.get_sample_value("tally_nl2sql_questions_total", labels) == 1


async def test_parsed_question_never_reaches_the_llm(
    auto: tuple[CollectorRegistry, Subjects], client: Client, llm: FakeLlm
) -> None:
    """NL_ENGINE=auto: a question the parser plans is planned by the parser alone."""
    _, subjects = auto
    planned = QueryPlanned.model_validate_json(
        await ask(client, subjects, question(PLANNED), subjects.plan_ready)
    )
    assert planned.engine == "builtin"
    assert llm.requests == []


async def test_llm_sql_goes_to_sql_proposed(
    auto: tuple[CollectorRegistry, Subjects], client: Client, llm: FakeLlm
) -> None:
    """SQL the model writes, hostile or not, is published as SqlProposed on ``sql.proposed``
    for the executor's firewall (never to ``plans.ready``)."""
    _, subjects = auto
    llm.script(Reply.json(sql_reply("SELECT 1; DROP TABLE videos", "one")))
    asked = question(RANKING)
    proposed = SqlProposed.model_validate_json(
        await ask(client, subjects, asked, subjects.sql_proposed)
    )
    assert proposed.question == asked
    assert proposed.sql == "SELECT 1; DROP TABLE videos"
    assert proposed.engine == "llm"


async def test_hanging_llm_fails_fast_and_blocks_nobody(
    auto: tuple[CollectorRegistry, Subjects], client: Client, llm: FakeLlm
) -> None:
    """While the model hangs on one question, a question the parser reads is planned at once;
    the hanging one is answered ``failed`` within the deadline, in the asker's language."""
    _, subjects = auto
    llm.script(*[Reply.hanging()] * 3)
    stuck, quick = question("Кто из креаторов самый популярный?", "ru"), question(PLANNED)
    waiting = asyncio.create_task(ask(client, subjects, stuck, answer_subject(subjects, stuck)))
    await asyncio.sleep(0.1)
    planned = QueryPlanned.model_validate_json(
        await ask(client, subjects, quick, subjects.plan_ready)
    )
    assert planned.question == quick
    assert not waiting.done()
    answer = QuestionAnswered.model_validate_json(await waiting)
    assert answer.outcome == "failed"
    assert answer.engine == "llm"
    assert answer.reason == texts.unavailable("ru")
    assert answer.examples


async def test_builtin_engine_never_calls_the_llm(
    builtin: tuple[CollectorRegistry, Subjects], client: Client, llm: FakeLlm
) -> None:
    """NL_ENGINE=builtin: a question the parser refuses is refused by the parser, even with
    an LLM configured; the fake server sees nothing."""
    _, subjects = builtin
    llm.script(Reply.json(plan_reply(COUNT_PLAN)))
    asked = question(RANKING)
    answer = QuestionAnswered.model_validate_json(
        await ask(client, subjects, asked, answer_subject(subjects, asked))
    )
    assert answer.outcome == "refused"
    assert answer.engine == "builtin"
    assert llm.requests == []


async def test_without_llm_auto_behaves_as_before(
    no_llm: tuple[CollectorRegistry, Subjects], client: Client, llm: FakeLlm
) -> None:
    """With no LLM configured, NL_ENGINE=auto refuses what the parser refuses and plans what
    it plans, with engine ``builtin``; no LLM metric exists."""
    registry, subjects = no_llm
    refused = question(RANKING)
    answer = QuestionAnswered.model_validate_json(
        await ask(client, subjects, refused, answer_subject(subjects, refused))
    )
    assert (answer.outcome, answer.engine) == ("refused", "builtin")
    assert answer.examples
    planned = QueryPlanned.model_validate_json(
        await ask(client, subjects, question(PLANNED), subjects.plan_ready)
    )
    assert planned.engine == "builtin"
    assert llm.requests == []
    assert registry.get_sample_value("tally_nl2sql_llm_seconds_count") is None
