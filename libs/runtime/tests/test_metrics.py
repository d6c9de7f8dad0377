"""The metrics every service's registry gets: process collectors and zeros before events."""

from prometheus_client import CollectorRegistry, Counter

from tally.runtime.deadletter import register_metrics
from tally.runtime.metrics import AnswerMetrics, register_process_metrics, zero


def test_process_collectors_serve_cpu_memory_and_start_time() -> None:
    """The registry serves the process's CPU, memory, open files and start time, and
    registering twice is harmless."""
    registry = CollectorRegistry()
    register_process_metrics(registry)
    register_process_metrics(registry)
    for name in (
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_start_time_seconds",
    ):
        assert (registry.get_sample_value(name) or 0) > 0, name
    assert registry.get_sample_value("python_info", _python_labels(registry)) == 1


def _python_labels(registry: CollectorRegistry) -> dict[str, str]:
    (info,) = [f for f in registry.collect() if f.name == "python_info"]
    return dict(info.samples[0].labels)


def test_zero_creates_every_combination_at_zero() -> None:
    """Each (kind, outcome) pair exists at 0 before anything is counted."""
    registry = CollectorRegistry()
    counter = Counter("x", "x", ["kind", "outcome"], registry=registry)
    zero(counter, kind=("a", "b"), outcome=("ok", "failed"))
    samples = [s for f in registry.collect() for s in f.samples if s.name == "x_total"]
    pairs = {(s.labels["kind"], s.labels["outcome"]) for s in samples}
    assert pairs == {("a", "ok"), ("a", "failed"), ("b", "ok"), ("b", "failed")}
    assert {s.value for s in samples} == {0.0}


def test_a_quiet_service_reads_zero_failures_and_dead_letters() -> None:
    """Failed answers and each dead-letter reason read 0, not absent."""
    registry = CollectorRegistry()
    AnswerMetrics(registry)
    register_metrics(registry, "quiet")
    failed = {"outcome": "failed", "language": "ru", "engine": "llm"}
    assert registry.get_sample_value("tally_questions_total", failed) == 0
    for kind in ("decode", "validation", "database", "retries_exhausted"):
        labels = {"service": "quiet", "reason_kind": kind}
        assert registry.get_sample_value("tally_dead_letters_total", labels) == 0
