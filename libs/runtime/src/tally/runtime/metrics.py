"""Business metrics counted by more than one service (bounded labels only).

An answer is published by nl2sql (ambiguous, refused, failed before any plan ran) or by the
executor (everything it ran or took from its cache); each counts its own, once per answer,
so the sum over services is the number of questions answered.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from time import perf_counter

from prometheus_client import CollectorRegistry, Counter, Histogram

from tally.contracts.events import QuestionAnswered
from tally.infra.telemetry import trace_exemplar

LATENCY_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
"""From a parser's millisecond answers to an LLM's tens of seconds."""


@contextmanager
def observe_seconds(histogram: Histogram) -> Iterator[None]:
    """Observe the seconds the block took in ``histogram`` (also when it raises), as
    ``Histogram.time()`` does, with the current trace id as exemplar (:func:`trace_exemplar`)."""
    started = perf_counter()
    try:
        yield
    finally:
        histogram.observe(perf_counter() - started, trace_exemplar())


class AnswerMetrics:
    """``tally_questions_total{outcome, language, engine}`` and
    ``tally_answer_latency_seconds{engine}`` (``QuestionAnswered.total_ms``: from
    ``asked_at`` to publication, in seconds). ``engine`` is ``builtin``, ``llm`` or ``none``
    (an answer no engine produced). A latency observation made inside a sampled span keeps
    its trace id as the bucket's exemplar."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.questions = Counter(
            "tally_questions",
            "Questions answered, by outcome, language and engine",
            ["outcome", "language", "engine"],
            registry=registry,
        )
        self.latency = Histogram(
            "tally_answer_latency_seconds",
            "Time from a question being asked to its answer being published (s)",
            ["engine"],
            buckets=LATENCY_BUCKETS_S,
            registry=registry,
        )

    def answered(self, answer: QuestionAnswered) -> None:
        """Count ``answer`` (call once, when it is published)."""
        engine = answer.engine or "none"
        self.questions.labels(answer.outcome, answer.question.language, engine).inc()
        self.latency.labels(engine).observe(answer.total_ms / 1000, trace_exemplar())
