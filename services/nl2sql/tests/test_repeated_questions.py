"""A question asked again under its id (the gateway's re-asks) on real NATS: nl2sql reads it
once, however slow the model, and tries again only after a failure."""

import asyncio
from collections.abc import AsyncIterator

import nats
import pytest
from nats.aio.client import Client
from nats.aio.subscription import Subscription
from prometheus_client import CollectorRegistry

from tally.contracts.events import QueryPlanned, QuestionAnswered, QuestionAsked, SqlProposed
from tally.contracts.subjects import Subjects
from tally.infra.settings import CommonSettings
from tally.nl2sql.app import create_broker_for
from tally.testing.llm import FakeLlm, Reply, plan_reply, sql_reply

from .conftest import SettingsFactory

RANKING = "Which weekday brings the most views on average?"
"""A question the built-in parser refuses, so the model reads it."""
COUNT_PLAN = {"dataset": "videos", "measure": {"aggregate": "count"}, "interpretation": "x"}
SQL = "SELECT count(*) FROM videos"
THINKING_S = 1.0
"""How long the fake model takes to answer the slow question."""


@pytest.fixture(scope="module")
async def nl2sql(
    llm_settings: SettingsFactory, settings: CommonSettings
) -> AsyncIterator[tuple[CollectorRegistry, Subjects]]:
    """nl2sql (NL_ENGINE=auto, the fake LLM, no retries, a breaker that never opens) on a
    prefix of its own."""
    prefix = f"{settings.subject_prefix}r"
    fields = {"subject_prefix": prefix, "llm_retries": 0, "llm_breaker_failures": 100}
    limits = {"llm_timeout_s": 5.0, "llm_deadline_s": 5.0}
    registry = CollectorRegistry()
    broker = create_broker_for(llm_settings(**fields, **limits), registry=registry)
    await broker.start()
    await broker.connection.flush()  # its subscriptions reach the server first
    yield registry, Subjects(prefix)
    await broker.stop()


@pytest.fixture
async def client(settings: CommonSettings) -> AsyncIterator[Client]:
    connection = await nats.connect(settings.nats_url)
    yield connection
    await connection.close()


def question(text: str) -> QuestionAsked:
    return QuestionAsked(channel="cli", chat_id=1, user_id=1, language="en", text=text)


async def _asked(client: Client, subjects: Subjects, asked: QuestionAsked) -> None:
    await client.publish(subjects.question_asked, asked.model_dump_json().encode())
    await client.flush()


async def _nothing_more(subscription: Subscription) -> None:
    with pytest.raises(nats.errors.TimeoutError):
        await subscription.next_msg(timeout=0.5)


def _repeated(registry: CollectorRegistry, action: str) -> float:
    labels = {"action": action}
    return registry.get_sample_value("tally_nl2sql_repeated_questions_total", labels) or 0.0


async def test_a_slow_question_asked_four_times_costs_one_llm_call(
    nl2sql: tuple[CollectorRegistry, Subjects], client: Client, llm: FakeLlm
) -> None:
    """Asked four times while the model thinks (1 s), a question reaches the model once and
    gives one SqlProposed; the three repeats are dropped and counted."""
    registry, subjects = nl2sql
    llm.script(Reply.json(sql_reply(SQL, "videos")).after(THINKING_S))
    asked = question(RANKING)
    proposals = await client.subscribe(subjects.sql_proposed)
    for _ in range(4):
        await _asked(client, subjects, asked)
        await asyncio.sleep(0.1)

    proposed = SqlProposed.model_validate_json((await proposals.next_msg(timeout=5)).data)
    await _nothing_more(proposals)

    assert proposed.question == asked and proposed.sql == SQL
    assert len(llm.requests) == 1
    assert _repeated(registry, "dropped") == 3


async def test_a_question_asked_again_once_read_gets_the_same_event(
    nl2sql: tuple[CollectorRegistry, Subjects], client: Client, llm: FakeLlm
) -> None:
    """Asked again after its plan was published (the executor that held it may have died), a
    question's plan is published again as it was, and the model is not asked again."""
    registry, subjects = nl2sql
    llm.script(Reply.json(plan_reply(COUNT_PLAN)))
    asked = question(RANKING)
    plans = await client.subscribe(subjects.plan_ready)
    replayed = _repeated(registry, "replayed")

    await _asked(client, subjects, asked)
    first = QueryPlanned.model_validate_json((await plans.next_msg(timeout=5)).data)
    await _asked(client, subjects, asked)
    again = QueryPlanned.model_validate_json((await plans.next_msg(timeout=5)).data)

    assert first == again and first.question == asked
    assert len(llm.requests) == 1
    assert _repeated(registry, "replayed") == replayed + 1


async def test_a_failed_attempt_is_tried_again(
    nl2sql: tuple[CollectorRegistry, Subjects], client: Client, llm: FakeLlm
) -> None:
    """When the model failed the first time (HTTP 500: a ``failed`` answer), the question
    asked again is read again, and planned."""
    _, subjects = nl2sql
    llm.script(Reply.error(500), Reply.json(plan_reply(COUNT_PLAN)))
    asked = question(RANKING)
    answers = await client.subscribe(subjects.answer(asked.channel, str(asked.question_id)))
    plans = await client.subscribe(subjects.plan_ready)

    await _asked(client, subjects, asked)
    failed = QuestionAnswered.model_validate_json((await answers.next_msg(timeout=5)).data)
    await _asked(client, subjects, asked)
    planned = QueryPlanned.model_validate_json((await plans.next_msg(timeout=5)).data)

    assert failed.outcome == "failed"
    assert planned.question == asked
    assert len(llm.requests) == 2
