"""Rule evaluation: inactive -> pending -> firing -> resolved, with ``for`` and
``keep_firing_for``, as Prometheus does."""

from datetime import UTC, datetime, timedelta

from tally.alerts.domain.evaluation import Evaluator
from tally.alerts.domain.labels import fingerprint
from tally.alerts.domain.rules import Condition, MetricSource, Rule

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
RULE = Rule(
    name="DatabaseSlow",
    source=MetricSource(metric="database_latency_ms"),
    condition=Condition(op=">", threshold=500),
    for_s=60,
    keep_firing_for_s=30,
    severity="warning",
    labels={"component": "database"},
    summary="select 1 takes {value} ms",
)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_pending_then_firing_after_for() -> None:
    """True for less than ``for`` is pending; from ``for`` on it fires, once."""
    evaluator = Evaluator()
    assert evaluator.evaluate(RULE, {(): 900}, at(0)) == []
    [pending] = evaluator.active()
    assert pending.state == "pending" and pending.summary == "select 1 takes 900 ms"
    assert evaluator.evaluate(RULE, {(): 800}, at(59)) == []
    [change] = evaluator.evaluate(RULE, {(): 700}, at(60))
    assert change.transition == "fired" and change.alert.value == 700
    assert change.alert.fired_at == at(60) and change.alert.active_at == at(0)
    assert evaluator.evaluate(RULE, {(): 700}, at(75)) == []
    labels = {"alertname": "DatabaseSlow", "severity": "warning", "component": "database"}
    assert change.alert.labels == labels
    assert change.alert.fingerprint == fingerprint(labels)


def test_pending_that_clears_never_fires() -> None:
    """A pending alert whose condition clears is dropped without a transition."""
    evaluator = Evaluator()
    evaluator.evaluate(RULE, {(): 900}, at(0))
    assert evaluator.evaluate(RULE, {(): 100}, at(30)) == []
    assert evaluator.active() == []
    evaluator.evaluate(RULE, {(): 900}, at(40))
    assert evaluator.evaluate(RULE, {(): 900}, at(90)) == []  # pending again from 40


def test_keep_firing_for_then_resolved() -> None:
    """After the condition clears it keeps firing for ``keep_firing_for``, then resolves;
    no data (None) counts as false."""
    evaluator = Evaluator()
    evaluator.evaluate(RULE, {(): 900}, at(0))
    evaluator.evaluate(RULE, {(): 900}, at(60))
    assert evaluator.evaluate(RULE, {(): 100}, at(70)) == []
    assert evaluator.evaluate(RULE, {}, at(89)) == []
    [change] = evaluator.evaluate(RULE, {(): None}, at(90))
    assert change.transition == "resolved" and change.alert.resolved_at == at(90)
    assert evaluator.active() == []


def test_one_alert_per_series() -> None:
    """Each series is its own alert, with the series' labels."""
    rule = RULE.model_copy(update={"for_s": 0.0})
    evaluator = Evaluator()
    series_a, series_b = (("consumer", "a"),), (("consumer", "b"),)
    changes = evaluator.evaluate(rule, {series_a: 900, series_b: 901}, at(0))
    assert sorted(c.alert.labels["consumer"] for c in changes) == ["a", "b"]
    [resolved] = evaluator.evaluate(rule, {series_a: 900, series_b: 1}, at(40))
    assert resolved.alert.labels["consumer"] == "b"


def test_removed_rules_resolve() -> None:
    """A rule gone from the file resolves its firing alerts and drops pending ones."""
    evaluator = Evaluator()
    evaluator.evaluate(RULE.model_copy(update={"for_s": 0.0}), {(): 900}, at(0))
    [change] = evaluator.drop_rules([], at(5))
    assert change.transition == "resolved"
