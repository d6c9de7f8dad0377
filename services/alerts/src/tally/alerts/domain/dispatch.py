"""Notification dispatch with Alertmanager's semantics
(https://prometheus.io/docs/alerting/latest/alertmanager/ and its configuration page).

Firing and resolved alerts are grouped by the route's ``group_by`` labels. A new group is
first flushed ``group_wait`` after its first alert, then every ``group_interval``. At a flush
the group's alerts are filtered (silenced or inhibited alerts are muted) and a notification is
sent only when needed (Alertmanager's dedup stage):

- the first time, when anything fires;
- when an alert fires that the last notification did not carry;
- when alerts resolved since the last notification (and, when none fires any more, that
  notification is the group's "resolved" one);
- otherwise, when ``repeat_interval`` has passed since the last one, unless every firing
  alert has been acknowledged (acknowledged alerts keep firing but stop repeating).

Resolved alerts leave the group at the flush that saw them; an empty group is deleted, so an
alert that fires again starts a new group (and waits ``group_wait`` again). Times are passed
in as ``now`` (aware UTC).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from tally.alerts.domain.evaluation import Alert
from tally.alerts.domain.inhibition import Inhibitor, inhibited
from tally.alerts.domain.labels import fingerprint
from tally.alerts.domain.rules_file import Route
from tally.alerts.domain.silences import Silences


@dataclass(frozen=True, slots=True)
class Notified:
    """What the last notification of a group carried (fingerprints) and when."""

    firing: frozenset[str]
    resolved: frozenset[str]
    at: datetime


@dataclass(frozen=True, slots=True)
class Notification:
    """One notification about a group: its firing alerts, then those resolved since."""

    group_id: str
    group_labels: Mapping[str, str]
    status: Literal["firing", "resolved"]
    firing: tuple[Alert, ...]
    resolved: tuple[Alert, ...]
    at: datetime


@dataclass
class Group:
    """An aggregation group: alerts by fingerprint, when it flushes next, what it last sent."""

    id: str
    labels: dict[str, str]
    next_flush: datetime
    alerts: dict[str, Alert] = field(default_factory=dict)
    last: Notified | None = None


def needs_update(
    last: Notified | None,
    firing: frozenset[str],
    resolved: frozenset[str],
    *,
    repeat_due: bool,
    all_acknowledged: bool,
) -> bool:
    """Alertmanager's dedup decision (``DedupStage.needsUpdate``), plus acknowledgement."""
    if last is None:
        return bool(firing)
    if not firing <= last.firing:
        return True
    if not firing:
        return bool(last.firing & resolved)
    if not resolved <= last.resolved:
        return True
    return repeat_due and not all_acknowledged


@dataclass
class Dispatcher:
    """Groups, flush timers, acknowledgements and the mute decision."""

    route: Route
    silences: Silences
    inhibitors: tuple[Inhibitor, ...] = ()
    groups: dict[str, Group] = field(default_factory=dict)
    acknowledged: dict[str, int] = field(default_factory=dict)

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        """The ``group_by`` labels of an alert (absent ones are left out)."""
        return {name: labels[name] for name in self.route.group_by if name in labels}

    def receive(self, alerts: Iterable[Alert], now: datetime) -> None:
        """Take firing and resolved alerts into their groups (a new group flushes after
        ``group_wait``); pending alerts are ignored, as Prometheus does not send them."""
        for alert in alerts:
            if alert.state == "pending":
                continue
            labels = self.group_labels(alert.labels)
            group_id = fingerprint(labels)
            group = self.groups.get(group_id)
            if group is None:
                if alert.state == "resolved":
                    continue
                wait = timedelta(seconds=self.route.group_wait_s)
                group = self.groups[group_id] = Group(group_id, labels, now + wait)
            group.alerts[alert.fingerprint] = alert
            if alert.state == "resolved":
                self.acknowledged.pop(alert.fingerprint, None)

    def firing(self) -> list[Alert]:
        """Every firing alert the dispatcher holds."""
        return [a for g in self.groups.values() for a in g.alerts.values() if a.state == "firing"]

    def silenced_by(self, alert: Alert, now: datetime) -> tuple[str, ...]:
        """Ids of the active silences muting ``alert``."""
        return self.silences.muting(alert.labels, now)

    def muted(self, alert: Alert, firing: list[Mapping[str, str]], now: datetime) -> bool:
        """True when ``alert`` is silenced or inhibited now."""
        return bool(self.silenced_by(alert, now)) or inhibited(
            alert.labels, firing, self.inhibitors
        )

    def flush(self, now: datetime) -> list[Notification]:
        """Flush every group whose timer is due; return the notifications to send."""
        firing = [alert.labels for alert in self.firing()]
        sent: list[Notification] = []
        for group in [g for g in self.groups.values() if g.next_flush <= now]:
            notification = self._flush(group, firing, now)
            if notification is not None:
                sent.append(notification)
        return sent

    def _flush(
        self, group: Group, firing_labels: list[Mapping[str, str]], now: datetime
    ) -> Notification | None:
        shown = [a for a in group.alerts.values() if not self.muted(a, firing_labels, now)]
        firing = tuple(a for a in shown if a.state == "firing")
        resolved = tuple(a for a in shown if a.state == "resolved")
        firing_ids = frozenset(a.fingerprint for a in firing)
        resolved_ids = frozenset(a.fingerprint for a in resolved)
        last = group.last
        repeat = timedelta(seconds=self.route.repeat_interval_s)
        send = needs_update(
            last,
            firing_ids,
            resolved_ids,
            repeat_due=last is not None and now - last.at >= repeat,
            all_acknowledged=all(fp in self.acknowledged for fp in firing_ids),
        )
        self._forget_resolved(group)
        group.next_flush = now + timedelta(seconds=self.route.group_interval_s)
        if not send:
            return None
        group.last = Notified(firing_ids, resolved_ids, now)
        status: Literal["firing", "resolved"] = "firing" if firing else "resolved"
        return Notification(group.id, dict(group.labels), status, firing, resolved, now)

    def _forget_resolved(self, group: Group) -> None:
        for key in [k for k, a in group.alerts.items() if a.state == "resolved"]:
            del group.alerts[key]
        if not group.alerts:
            del self.groups[group.id]

    def acknowledge(self, fingerprints: Iterable[str], actor_id: int) -> list[Alert]:
        """Acknowledge the firing alerts among ``fingerprints``; return those newly acked."""
        wanted = set(fingerprints)
        done = [a for a in self.firing() if a.fingerprint in wanted]
        fresh = [a for a in done if a.fingerprint not in self.acknowledged]
        for alert in fresh:
            self.acknowledged[alert.fingerprint] = actor_id
        return fresh

    def find(self, target: str) -> list[Alert]:
        """The firing alerts of group ``target``, or the firing alert whose fingerprint it is."""
        group = self.groups.get(target)
        if group is not None:
            return [a for a in group.alerts.values() if a.state == "firing"]
        return [a for a in self.firing() if a.fingerprint == target]
