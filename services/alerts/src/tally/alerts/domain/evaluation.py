"""Rule evaluation with Prometheus' alert states
(https://prometheus.io/docs/prometheus/latest/configuration/alerting_rules/).

Per rule and label set: inactive -> **pending** when the condition first holds -> **firing**
once it has held for ``for_s`` (at once when 0) -> **resolved** when it has been false for
``keep_firing_for_s``. A pending alert whose condition clears is dropped (never fired, never
notified). The value of each evaluation is kept on the alert. Times are aware UTC datetimes
passed in as ``now``; nothing here reads a clock.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from tally.alerts.domain.labels import LabelKey, fingerprint
from tally.alerts.domain.rules import Condition, Rule

Transition = Literal["fired", "resolved"]


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert's current state. ``labels`` hold the series' labels, the rule's labels,
    ``alertname`` and ``severity``; ``active_at`` is when the condition began to hold,
    ``fired_at`` when it started firing, ``resolved_at`` when it resolved; ``last_true_at``
    is the last evaluation at which the condition held."""

    rule: str
    labels: Mapping[str, str]
    fingerprint: str
    state: Literal["pending", "firing", "resolved"]
    value: float | None
    summary: str
    active_at: datetime
    last_true_at: datetime
    fired_at: datetime | None = None
    resolved_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """A state change worth recording in history."""

    alert: Alert
    transition: Transition


def holds(condition: Condition, value: float | None) -> bool:
    """``value <op> threshold``; no value (no data) never holds."""
    if value is None:
        return False
    threshold = condition.threshold
    match condition.op:
        case ">":
            return value > threshold
        case ">=":
            return value >= threshold
        case "<":
            return value < threshold
        case "<=":
            return value <= threshold


def alert_labels(rule: Rule, series: LabelKey) -> dict[str, str]:
    """The alert's labels: the series', then the rule's, then ``alertname`` and ``severity``."""
    return {**dict(series), **rule.labels, "alertname": rule.name, "severity": rule.severity}


def render_summary(rule: Rule, value: float | None) -> str:
    """The rule's summary with ``{value}`` formatted (3 significant digits; "n/a" if None)."""
    shown = "n/a" if value is None else f"{value:.3g}"
    return rule.summary.replace("{value}", shown)


@dataclass
class Evaluator:
    """The states of every rule's alerts, by rule name then series labels."""

    alerts: dict[str, dict[LabelKey, Alert]] = field(default_factory=dict)

    def evaluate(
        self,
        rule: Rule,
        values: Mapping[LabelKey, float | None],
        now: datetime,
        *,
        key: str | None = None,
    ) -> list[Change]:
        """Advance ``rule``'s alerts given this evaluation's value per series at ``now``;
        return the alerts that fired or resolved. Resolved alerts are dropped from the state
        (the caller hands them to the dispatcher once). ``key`` names the rule's state
        (default: its name; watches use ``watch:<id>``)."""
        states = self.alerts.setdefault(key or rule.name, {})
        changes: list[Change] = []
        for series in set(states) | set(values):
            value = values.get(series)
            alert = self._step(rule, series, states.get(series), value, now)
            if alert is None:
                states.pop(series, None)
                continue
            previous = states.get(series)
            states[series] = alert
            if alert.state == "firing" and (previous is None or previous.state != "firing"):
                changes.append(Change(alert, "fired"))
            if alert.state == "resolved":
                states.pop(series)
                changes.append(Change(alert, "resolved"))
        return changes

    def _step(
        self, rule: Rule, series: LabelKey, alert: Alert | None, value: float | None, now: datetime
    ) -> Alert | None:
        if holds(rule.condition, value):
            if alert is None:
                labels = alert_labels(rule, series)
                alert = Alert(
                    rule.name, labels, fingerprint(labels), "pending", value, "", now, now
                )
            alert = replace(
                alert, value=value, last_true_at=now, summary=render_summary(rule, value)
            )
            if alert.state == "pending" and now - alert.active_at >= timedelta(seconds=rule.for_s):
                alert = replace(alert, state="firing", fired_at=now)
            return alert
        if alert is None or alert.state == "pending":
            return None
        if now - alert.last_true_at < timedelta(seconds=rule.keep_firing_for_s):
            return replace(alert, value=value if value is not None else alert.value)
        return replace(alert, state="resolved", resolved_at=now, value=value)

    def drop_rules(self, keep: Iterable[str], now: datetime) -> list[Change]:
        """Resolve the firing alerts of rules whose key is not in ``keep`` (removed on
        reload); pending ones are dropped."""
        kept = set(keep)
        changes: list[Change] = []
        for name in [name for name in self.alerts if name not in kept]:
            for alert in self.alerts.pop(name).values():
                if alert.state == "firing":
                    resolved = replace(alert, state="resolved", resolved_at=now)
                    changes.append(Change(resolved, "resolved"))
        return changes

    def active(self) -> list[Alert]:
        """Every pending and firing alert."""
        return [alert for states in self.alerts.values() for alert in states.values()]
