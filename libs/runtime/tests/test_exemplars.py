"""Latency observations made inside a sampled span keep its trace id as their exemplar, served
in the OpenMetrics exposition only (Prometheus's text format has no exemplars)."""

import contextlib

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics

from tally.contracts.events import QuestionAnswered, QuestionAsked
from tally.infra.telemetry import trace_exemplar
from tally.runtime.metrics import AnswerMetrics, observe_seconds


def _answer() -> QuestionAnswered:
    question = QuestionAsked(channel="cli", chat_id=1, user_id=1, language="en", text="q")
    return QuestionAnswered(question=question, outcome="refused", reason="test", total_ms=42)


def test_answer_latency_keeps_the_trace_id() -> None:
    """The bucket the answer fell in carries ``trace_id`` in OpenMetrics, not in the text
    format; an answer outside any span adds no exemplar."""
    registry = CollectorRegistry()
    metrics = AnswerMetrics(registry)
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("answer") as span:
        metrics.answered(_answer())
    trace_id = format(span.get_span_context().trace_id, "032x")
    exposed = openmetrics(registry).decode()
    [line] = [line for line in exposed.splitlines() if "# {" in line]
    assert line.startswith('tally_answer_latency_seconds_bucket{engine="none",le="0.05"}')
    assert f'# {{trace_id="{trace_id}"}} 0.042' in line
    assert trace_id not in generate_latest(registry).decode()
    metrics.answered(_answer())
    assert openmetrics(registry).decode().count("# {") == 1


def test_no_exemplar_outside_a_sampled_span() -> None:
    """No span, or a span not sampled (so not in Jaeger): no exemplar to link to."""
    assert trace_exemplar() is None
    unsampled = TracerProvider(sampler=ALWAYS_OFF).get_tracer("test")
    with unsampled.start_as_current_span("dropped"):
        assert trace.get_current_span().get_span_context().is_valid
        assert trace_exemplar() is None


def test_observe_seconds_times_the_block_with_the_trace_id() -> None:
    """The block's duration is observed, with the span's trace id, also when it raises."""
    registry = CollectorRegistry()
    histogram = Histogram("probe_seconds", "A probe.", registry=registry)
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("batch") as span:
        with observe_seconds(histogram):
            pass
        with contextlib.suppress(RuntimeError), observe_seconds(histogram):
            raise RuntimeError
    trace_id = format(span.get_span_context().trace_id, "032x")
    assert registry.get_sample_value("probe_seconds_count") == 2
    assert f'# {{trace_id="{trace_id}"}}' in openmetrics(registry).decode()
