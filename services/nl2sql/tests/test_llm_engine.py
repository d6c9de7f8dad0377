"""The LLM engine against a fake OpenAI-compatible server: plans, SQL, refusals, repairs,
retries, timeouts and the circuit breaker."""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime

import pytest
from prometheus_client import CollectorRegistry

from tally.contracts.events import QuestionAsked, SqlProposed
from tally.language import Refusal
from tally.nl2sql.config import Nl2sqlSettings
from tally.nl2sql.llm import LlmEngine, LlmUnavailable, ProposedSql, build_engine, texts
from tally.nl2sql.planning import ask_llm
from tally.semantic.plan import Aggregate, Dataset, QueryPlan
from tally.testing.llm import FakeLlm, Reply, plan_reply, refusal_reply, sql_reply

from .conftest import MODEL, SettingsFactory

TODAY = date(2025, 12, 10)
QUESTION = "By how much did views grow on November 28, 2025, all videos together?"
GROWTH_PLAN = {
    "dataset": "video_snapshots",
    "measure": {"aggregate": "sum", "column": "delta_views_count"},
    "time_range": {
        "column": "created_at",
        "start": "2025-11-28T00:00:00Z",
        "end": "2025-11-29T00:00:00Z",
    },
    "interpretation": "whatever the model claims",
}
MALICIOUS_SQL = "SELECT 1; DROP TABLE videos"


@contextlib.asynccontextmanager
async def running(settings: Nl2sqlSettings) -> AsyncIterator[tuple[LlmEngine, CollectorRegistry]]:
    """The engine ``settings`` describe, with its metrics registry; closed afterwards."""
    registry = CollectorRegistry()
    engine = build_engine(settings, registry)
    assert engine is not None
    try:
        yield engine, registry
    finally:
        await engine.close()


@pytest.fixture
async def engine(
    llm: FakeLlm, llm_settings: SettingsFactory
) -> AsyncIterator[tuple[LlmEngine, CollectorRegistry]]:
    async with running(llm_settings()) as pair:
        yield pair


async def read(engine: LlmEngine, text: str = QUESTION, language: str = "en") -> object:
    return await engine.read(text, language=language, today=TODAY)  # type: ignore[arg-type]


def errors(registry: CollectorRegistry, kind: str) -> float:
    return registry.get_sample_value("tally_nl2sql_llm_errors_total", {"kind": kind}) or 0.0


async def test_plan_is_validated_and_described(
    llm: FakeLlm, engine: tuple[LlmEngine, CollectorRegistry]
) -> None:
    """A plan the model fills comes back as a validated QueryPlan whose interpretation is our
    own wording of the plan, not the model's claim; tokens and latency are counted."""
    llm.script(Reply.json(plan_reply(GROWTH_PLAN), prompt_tokens=321, completion_tokens=45))
    llm_engine, registry = engine
    plan = await read(llm_engine)
    assert isinstance(plan, QueryPlan)
    assert plan.dataset is Dataset.SNAPSHOTS
    assert plan.measure.aggregate is Aggregate.SUM
    assert plan.time_range is not None
    assert plan.time_range.start == datetime(2025, 11, 28, tzinfo=UTC)
    assert plan.interpretation != "whatever the model claims"
    assert "28 Nov 2025" in plan.interpretation
    tokens = "tally_nl2sql_llm_tokens_total"
    assert registry.get_sample_value(tokens, {"kind": "prompt"}) == 321
    assert registry.get_sample_value(tokens, {"kind": "completion"}) == 45
    assert registry.get_sample_value("tally_nl2sql_llm_seconds_count") == 1


async def test_request_carries_schema_catalog_and_today(
    llm: FakeLlm, engine: tuple[LlmEngine, CollectorRegistry]
) -> None:
    """The request asks for the reply schema as structured output, with the key, the model,
    the catalog, today's UTC date and the question tagged with its language."""
    llm.script(Reply.json(plan_reply(GROWTH_PLAN)))
    await read(engine[0], "Сколько?", "ru")
    [request] = llm.requests
    assert request.authorization == f"Bearer {llm.api_key}"
    assert request.body["model"] == MODEL
    response_format = request.body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "query_plan"
    assert "plan" in response_format["json_schema"]["schema"]["properties"]
    system = request.messages[0]["content"]
    assert "2025-12-10" in system
    assert "video_snapshots" in system and "delta_views_count" in system
    assert request.messages[-1] == {"role": "user", "content": "(ru) Сколько?"}


async def test_sql_is_passed_on_untouched(
    llm: FakeLlm, engine: tuple[LlmEngine, CollectorRegistry]
) -> None:
    """SQL the model writes (even hostile SQL) is handed on as written, with its
    interpretation, for the executor's firewall to judge; nl2sql never runs it."""
    llm.script(Reply.json(sql_reply(MALICIOUS_SQL, "one")))
    result = await read(engine[0])
    assert result == ProposedSql(sql=MALICIOUS_SQL, interpretation="one")


async def test_sql_becomes_sql_proposed(
    llm: FakeLlm, engine: tuple[LlmEngine, CollectorRegistry]
) -> None:
    """For the bus, model-written SQL becomes an SqlProposed (engine ``llm``) for the question."""
    llm.script(Reply.json(sql_reply(MALICIOUS_SQL, "days with growth")))
    asked = QuestionAsked(channel="cli", chat_id=1, user_id=1, language="en", text=QUESTION)
    event = await ask_llm(engine[0], asked)
    assert isinstance(event, SqlProposed)
    assert event.question == asked
    assert event.sql == MALICIOUS_SQL
    assert event.interpretation == "days with growth"
    assert event.engine == "llm"


async def test_model_refusal_is_a_refusal(
    llm: FakeLlm, engine: tuple[LlmEngine, CollectorRegistry]
) -> None:
    """A model that declines (off-topic, writes) yields a Refusal with its sentence and our
    examples."""
    llm.script(Reply.json(refusal_reply("I only read video statistics.")))
    result = await read(engine[0], "What's the weather?")
    assert result == Refusal("I only read video statistics.", texts.examples("en"))


async def test_invalid_json_is_repaired_once(
    llm: FakeLlm, engine: tuple[LlmEngine, CollectorRegistry]
) -> None:
    """An invalid reply is sent back with what was wrong; a valid second reply is used."""
    llm.script(Reply.text("Sure! Here is your plan: {"), Reply.json(plan_reply(GROWTH_PLAN)))
    llm_engine, registry = engine
    assert isinstance(await read(llm_engine), QueryPlan)
    _, second = llm.requests
    assert second.messages[-2] == {"role": "assistant", "content": "Sure! Here is your plan: {"}
    assert "not valid" in second.messages[-1]["content"]
    assert errors(registry, "invalid") == 1


async def test_invalid_twice_is_refused_not_guessed(
    llm: FakeLlm, engine: tuple[LlmEngine, CollectorRegistry]
) -> None:
    """Two invalid replies (bad JSON, then a plan naming a column outside the catalog) end in
    a refusal, never in a guessed plan; the breaker does not count them (the model answered)."""
    bad_plan = {**GROWTH_PLAN, "measure": {"aggregate": "sum", "column": "salary"}}
    llm.script(Reply.text("not json"), Reply.json(plan_reply(bad_plan)))
    llm_engine, registry = engine
    result = await read(llm_engine)
    assert result == Refusal(texts.unreadable("en"), texts.examples("en"))
    assert len(llm.requests) == 2
    assert errors(registry, "invalid") == 2
    assert llm_engine.breaker.state == "closed"


@pytest.mark.parametrize(
    "reply",
    [
        {"plan": None, "sql": None, "interpretation": "", "refuse": None},
        {**sql_reply("SELECT 1"), "refuse": "no"},
        plan_reply({**GROWTH_PLAN, "measure": {"aggregate": "sum", "column": "video_id"}}),
        plan_reply(
            {**GROWTH_PLAN, "filters": [{"column": "views_count", "op": ">", "value": "x"}]}
        ),
    ],
    ids=["nothing", "two-choices", "sum-of-an-id", "counter-vs-text"],
)
async def test_replies_that_mean_nothing_are_invalid(
    llm: FakeLlm, engine: tuple[LlmEngine, CollectorRegistry], reply: dict[str, object]
) -> None:
    """A reply choosing none or two of plan/sql/refuse, or a plan the catalog allows but that
    means nothing (a sum of ids, a counter compared with text), is invalid."""
    llm.script(Reply.json(reply), Reply.json(reply))
    assert await read(engine[0]) == Refusal(texts.unreadable("en"), texts.examples("en"))


async def test_server_error_is_retried(
    llm: FakeLlm, engine: tuple[LlmEngine, CollectorRegistry]
) -> None:
    """A 500 is retried (with backoff) and the next answer is used."""
    llm.script(Reply.error(500), Reply.json(plan_reply(GROWTH_PLAN)))
    llm_engine, registry = engine
    assert isinstance(await read(llm_engine), QueryPlan)
    assert len(llm.requests) == 2
    assert errors(registry, "http") == 0


async def test_client_error_is_not_retried(
    llm: FakeLlm, engine: tuple[LlmEngine, CollectorRegistry]
) -> None:
    """A 4xx (here 429) is final: one request, LlmUnavailable of kind ``http``."""
    llm.script(Reply.error(429), Reply.json(plan_reply(GROWTH_PLAN)))
    llm_engine, registry = engine
    with pytest.raises(LlmUnavailable) as raised:
        await read(llm_engine)
    assert raised.value.kind == "http"
    assert len(llm.requests) == 1
    assert errors(registry, "http") == 1


async def test_wrong_key_is_refused_by_the_server(
    llm: FakeLlm, llm_settings: SettingsFactory
) -> None:
    """A wrong API key gets the server's 401: LlmUnavailable ``http``, not retried."""
    async with running(llm_settings(llm_api_key="sk-wrong")) as (llm_engine, _):
        with pytest.raises(LlmUnavailable) as raised:
            await read(llm_engine)
    assert raised.value.kind == "http"
    assert llm.requests == []  # the fake records authorised requests only


async def test_hanging_model_times_out_fast(llm: FakeLlm, llm_settings: SettingsFactory) -> None:
    """A model that never answers costs the deadline (0.8 s here), then LlmUnavailable
    ``timeout``; the asker gets a ``failed`` answer saying the model is not answering."""
    llm.script(Reply.hanging(), Reply.hanging(), Reply.hanging())
    asked = QuestionAsked(channel="cli", chat_id=1, user_id=1, language="en", text=QUESTION)
    async with running(llm_settings(llm_timeout_s=0.5, llm_deadline_s=0.8)) as (
        llm_engine,
        registry,
    ):
        started = time.monotonic()
        answer = await ask_llm(llm_engine, asked)
        elapsed = time.monotonic() - started
    assert elapsed < 2.0
    assert answer.outcome == "failed"  # type: ignore[union-attr]
    assert answer.reason == texts.unavailable("en")  # type: ignore[union-attr]
    assert errors(registry, "timeout") == 1


async def test_breaker_opens_and_spares_the_server(
    llm: FakeLlm, engine: tuple[LlmEngine, CollectorRegistry]
) -> None:
    """After 2 failed questions (a hang, then 500s to the last retry) the breaker opens: the
    next question fails at once with ``breaker_open`` and the server sees no request."""
    llm.script(Reply.hanging(), *[Reply.error(503)] * 3)
    llm_engine, registry = engine
    for _ in range(2):
        with pytest.raises(LlmUnavailable):
            await read(llm_engine)
    assert llm_engine.breaker.state == "open"
    seen = len(llm.requests)
    llm.script(Reply.json(plan_reply(GROWTH_PLAN)))
    started = time.monotonic()
    with pytest.raises(LlmUnavailable) as raised:
        await read(llm_engine)
    assert time.monotonic() - started < 0.05
    assert raised.value.kind == "breaker_open"
    assert len(llm.requests) == seen
    assert errors(registry, "breaker_open") == 1


async def test_breaker_half_open_trial_closes_it(
    llm: FakeLlm, llm_settings: SettingsFactory
) -> None:
    """Once ``llm_breaker_reset_s`` has passed, one trial goes through; its success closes
    the breaker."""
    settings = llm_settings(llm_breaker_failures=1, llm_breaker_reset_s=0.2, llm_retries=0)
    async with running(settings) as (llm_engine, _):
        llm.script(Reply.error(500))
        with pytest.raises(LlmUnavailable):
            await read(llm_engine)
        assert llm_engine.breaker.state == "open"
        await asyncio.sleep(0.25)
        llm.script(Reply.json(plan_reply(GROWTH_PLAN)))
        assert isinstance(await read(llm_engine), QueryPlan)
        assert llm_engine.breaker.state == "closed"


async def test_api_key_never_logged(
    llm: FakeLlm,
    llm_settings: SettingsFactory,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Neither the settings' repr nor any log line (SDK debug logs included), on success,
    retry and failure, contains the API key."""
    caplog.set_level(logging.DEBUG)
    settings = llm_settings()
    llm.script(Reply.error(500), Reply.json(plan_reply(GROWTH_PLAN)), Reply.error(401))
    async with running(settings) as (llm_engine, _):
        await read(llm_engine)
        with pytest.raises(LlmUnavailable):
            await read(llm_engine)
    captured = capsys.readouterr()
    assert llm.api_key not in repr(settings) + str(settings.model_dump())
    assert llm.api_key not in caplog.text + captured.out + captured.err
