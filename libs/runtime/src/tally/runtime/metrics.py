"""Metrics every service shares: the process collectors, zeroed label values, and the
business metrics counted by more than one service (bounded labels only).

An answer is published by nl2sql (ambiguous, refused, failed before any plan ran) or by the
executor (everything it ran or took from its cache); each counts its own, once per answer,
so the sum over services is the number of questions answered.
"""

import contextlib
import itertools
from collections.abc import Iterable, Iterator
from time import perf_counter
from typing import get_args

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Histogram,
)
from prometheus_client.metrics import MetricWrapperBase

from tally.contracts.events import Language, Outcome, QuestionAnswered
from tally.infra.telemetry import trace_exemplar

LATENCY_BUCKETS_S = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
"""From a parser's millisecond answers to an LLM's tens of seconds."""
LANGUAGES: tuple[str, ...] = get_args(Language)
"""The languages questions are read in (the ``language`` label)."""
ENGINES = ("builtin", "llm", "none")
"""The ``engine`` label of answers: the parser, the LLM, or none (no engine answered)."""


def register_process_metrics(registry: CollectorRegistry) -> None:
    """Serve prometheus_client's process, platform and garbage-collector collectors from
    ``registry`` (once; later calls do nothing): ``process_cpu_seconds_total``,
    ``process_resident_memory_bytes``, ``process_open_fds``, ``process_start_time_seconds``
    (Unix time, s), ``python_info`` and ``python_gc_*``. The process collector reads /proc,
    so on other systems only the platform and GC series appear."""
    for collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
        with contextlib.suppress(ValueError):  # already registered there
            registry.register(collector)


def zero(metric: MetricWrapperBase, **values: Iterable[str]) -> None:
    """Create ``metric``'s child for every combination of the label ``values`` (a product), so
    a labelled counter shows 0 before its first event instead of no series at all: a panel of
    failures reads 0 on a quiet system, and ``rate``/``increase`` see the first one."""
    names = list(values)
    for combination in itertools.product(*values.values()):
        metric.labels(**dict(zip(names, combination, strict=True)))


@contextlib.contextmanager
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
        zero(self.questions, outcome=get_args(Outcome), language=LANGUAGES, engine=ENGINES)

    def answered(self, answer: QuestionAnswered) -> None:
        """Count ``answer`` (call once, when it is published)."""
        engine = answer.engine or "none"
        self.questions.labels(answer.outcome, answer.question.language, engine).inc()
        self.latency.labels(engine).observe(answer.total_ms / 1000, trace_exemplar())
