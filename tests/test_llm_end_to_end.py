"""The LLM path end to end, on real NATS and PostgreSQL, against a fake OpenAI-compatible
server: a question the parser refuses goes to the model; a plan is compiled and run, SQL
passes the executor's firewall or is refused, and a dead provider costs a quick sentence."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import asyncpg
import pytest

from tally.cli.client import Asker
from tally.contracts.events import QuestionAnswered
from tally.executor.app import create_broker_for as executor_broker
from tally.executor.config import ExecutorSettings
from tally.executor.runner import Reader
from tally.infra.db.session import asyncpg_dsn
from tally.infra.settings import CommonSettings
from tally.nl2sql.app import create_broker_for as nl2sql_broker
from tally.nl2sql.config import Nl2sqlSettings
from tally.testing.llm import FakeLlm, Reply, plan_reply, sql_reply

OFF_PARSER = "Which of our videos would a data scientist call popular?"
"""A question the built-in parser refuses, so it goes to the model."""


@dataclass
class Stack:
    llm: FakeLlm
    settings: CommonSettings
    database: asyncpg.Connection

    async def ask(self) -> QuestionAnswered:
        async with Asker(self.settings, timeout_s=20) as asker:
            return (await asker.ask(OFF_PARSER)).answer


@pytest.fixture(scope="module")
async def stack(settings: CommonSettings, streams: None) -> AsyncIterator[Stack]:
    """nl2sql (NL_ENGINE=auto, the fake model) and the executor, on the real broker."""
    base = settings.model_dump()
    database = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    async with AsyncExitStack() as services, FakeLlm() as llm:
        nl2sql = Nl2sqlSettings(
            **base,
            nl_engine="auto",
            llm_base_url=llm.base_url,
            llm_api_key=llm.api_key,
            llm_model="fake-model",
            llm_timeout_s=0.5,
            llm_deadline_s=2.0,
        )
        reader = Reader(ExecutorSettings(**base))
        services.push_async_callback(reader.close)
        for broker in (nl2sql_broker(nl2sql), executor_broker(ExecutorSettings(**base), reader)):
            await broker.start()
            services.push_async_callback(broker.stop)
        yield Stack(llm, settings, database)
    await database.close()


async def test_a_plan_from_the_model_is_run_like_a_parsed_one(stack: Stack) -> None:
    """The model's plan (videos with more than 1,000 views) gives the number SQL gives."""
    stack.llm.script(
        Reply.json(
            plan_reply(
                {
                    "dataset": "videos",
                    "measure": {"aggregate": "count"},
                    "filters": [{"column": "views_count", "op": ">", "value": 1000}],
                    "interpretation": "popular videos",
                }
            )
        )
    )
    answer = await stack.ask()
    expected = await stack.database.fetchval("SELECT count(*) FROM videos WHERE views_count > 1000")
    assert (answer.outcome, answer.engine, answer.value) == ("answered", "llm", expected)


async def test_sql_from_the_model_runs_after_the_firewall_accepts_it(stack: Stack) -> None:
    """Legitimate model SQL is answered with the number PostgreSQL gives for it."""
    sql = (
        "SELECT count(DISTINCT v.id) FROM videos v JOIN video_snapshots s ON s.video_id = v.id "
        "WHERE s.delta_views_count < 0"
    )
    stack.llm.script(Reply.json(sql_reply(sql, "videos that lost views at some hour")))
    answer = await stack.ask()
    assert (answer.outcome, answer.engine) == ("answered", "llm")
    assert answer.value == await stack.database.fetchval(sql)


async def test_malicious_sql_from_the_model_is_refused_and_nothing_runs(stack: Stack) -> None:
    """Stacked DROP from the model: a refusal that says why; the table and its rows remain."""
    before = await stack.database.fetchval("SELECT count(*) FROM videos")
    stack.llm.script(Reply.json(sql_reply("SELECT count(*) FROM videos; DROP TABLE videos")))
    answer = await stack.ask()
    assert answer.outcome == "refused" and answer.reason
    assert answer.elapsed_ms == 0
    assert await stack.database.fetchval("SELECT count(*) FROM videos") == before


async def test_a_hanging_model_costs_a_quick_sentence(stack: Stack) -> None:
    """A model that never answers: the asker gets a sentence within the deadline, no hang."""
    stack.llm.script(*[Reply.hanging()] * 5)
    answer = await stack.ask()
    assert answer.outcome == "failed"
    assert answer.reason and "language model" in answer.reason
