"""The sample store: ring buffers, windows, reducers, matchers, ``min_samples``."""

import pytest

from tally.alerts.domain.answers import AnswerMetrics, llm_failed
from tally.alerts.domain.matchers import parse_matchers
from tally.alerts.domain.rules import MetricSource
from tally.alerts.domain.samples import SampleStore, metric_values, reduce
from tally.contracts.events import QuestionAnswered, QuestionAsked


@pytest.mark.parametrize(
    ("reducer", "expected"),
    [
        ("last", 4),
        ("avg", 4.25),
        ("max", 10),
        ("min", 1),
        ("increase", 1 + 8 + 4),
        ("rate", 13 / 60),
    ],
)
def test_reducers(reducer: str, expected: float) -> None:
    """``increase`` reads the fall 10 -> 4 as a counter reset (adds 4), as PromQL does."""
    assert reduce([1, 2, 10, 4], reducer, 60) == pytest.approx(expected)  # type: ignore[arg-type]


def test_increase_needs_two_samples_and_empty_is_none() -> None:
    """No data is None, not 0."""
    assert reduce([5], "increase", 60) is None
    assert reduce([], "avg", 60) is None


def test_window_and_ring_buffer() -> None:
    """Only samples in [now - window, now] count; a series keeps at most ``capacity``."""
    store = SampleStore(capacity=3)
    for at in range(5):
        store.record("m", float(at), at)
    [labels] = store.series("m")
    assert store.window("m", labels, now=4, window_s=10) == [2.0, 3.0, 4.0]
    assert store.window("m", labels, now=4, window_s=1) == [3.0, 4.0]


def test_metric_values_per_series_with_matchers_and_min_samples() -> None:
    """One value per matching series; a series with too few samples has None."""
    store = SampleStore()
    for at in range(3):
        store.record("consumer_pending", 100 + at, at, {"stream": "S", "consumer": "ingest-a"})
    store.record("consumer_pending", 7, 2, {"stream": "S", "consumer": "nl2sql"})
    source = MetricSource(metric="consumer_pending", reduce="max", window_s=60, min_samples=2)
    values = metric_values(store, source, parse_matchers(['consumer=~"ingest-.*"']), now=2)
    assert values == {(("consumer", "ingest-a"), ("stream", "S")): 102}
    everything = metric_values(store, source, (), now=2)
    assert everything[(("consumer", "nl2sql"), ("stream", "S"))] is None


def _answer(outcome: str, engine: str | None, *, sql: str | None = None) -> QuestionAnswered:
    question = QuestionAsked(channel="cli", chat_id=1, user_id=1, language="en", text="q")
    return QuestionAnswered(question=question, outcome=outcome, engine=engine, sql=sql)  # type: ignore[arg-type]


def test_answers_become_failure_ratios_and_a_counter() -> None:
    """Failed answers are 1, others 0; the LLM ratio counts only the model's own failures
    (a failed answer with SQL failed in the database)."""
    store = SampleStore()
    answers = AnswerMetrics(store)
    for answer in (
        _answer("failed", "llm"),
        _answer("failed", "llm", sql="select 1"),
        _answer("answered", "llm"),
        _answer("refused", "builtin"),
    ):
        answers.observe(answer, 1.0)
    assert llm_failed(_answer("failed", "llm")) and not llm_failed(_answer("failed", "builtin"))
    window = {
        name: store.window(name, (), 1, 60)
        for name in ("question_failure_ratio", "llm_failure_ratio", "questions")
    }
    assert window["question_failure_ratio"] == [1, 1, 0, 0]
    assert window["llm_failure_ratio"] == [1, 0, 0]
    assert window["questions"] == [1, 2, 3, 4]
