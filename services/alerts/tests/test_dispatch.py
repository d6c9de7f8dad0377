"""Notification dispatch with Alertmanager's semantics: grouping, group_wait, group_interval,
repeat_interval, dedup, inhibition, silences (each matcher type, expiry, until resolved) and
acknowledgements. Time is passed in, so these run in microseconds."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tally.alerts.domain.dispatch import Dispatcher, Notification
from tally.alerts.domain.evaluation import Alert
from tally.alerts.domain.inhibition import Inhibitor
from tally.alerts.domain.labels import fingerprint
from tally.alerts.domain.rules_file import InhibitRule, Route
from tally.alerts.domain.silences import Silence, Silences

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
ROUTE = Route(
    group_by=("alertname",), group_wait_s=30, group_interval_s=300, repeat_interval_s=3600
)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def firing(name: str, since: float = 0, **labels: str) -> Alert:
    full = {"alertname": name, "severity": "warning", **labels}
    return Alert(
        name, full, fingerprint(full), "firing", 1.0, name, at(since), at(since), at(since)
    )


def resolved(alert: Alert, when: float) -> Alert:
    return replace(alert, state="resolved", resolved_at=at(when))


def dispatcher(*inhibit: InhibitRule, silences: Silences | None = None) -> Dispatcher:
    return Dispatcher(ROUTE, silences or Silences(), tuple(Inhibitor.compile(r) for r in inhibit))


def fingerprints(notification: Notification) -> tuple[list[str], list[str]]:
    return (
        sorted(a.labels.get("consumer", a.rule) for a in notification.firing),
        sorted(a.labels.get("consumer", a.rule) for a in notification.resolved),
    )


def test_group_wait_then_one_notification_per_group() -> None:
    """Alerts sharing group_by labels are sent together after group_wait, not before."""
    d = dispatcher()
    a, b = firing("QueueBacklog", consumer="a"), firing("QueueBacklog", consumer="b")
    d.receive([a, firing("DatabaseSlow")], at(0))
    assert d.flush(at(29)) == []
    d.receive([a, b, firing("DatabaseSlow")], at(10))
    sent = {n.group_labels["alertname"]: n for n in d.flush(at(30))}
    assert set(sent) == {"QueueBacklog", "DatabaseSlow"}
    queue = sent["QueueBacklog"]
    assert queue.status == "firing" and fingerprints(queue) == (["a", "b"], [])
    assert queue.group_id == fingerprint({"alertname": "QueueBacklog"})


def test_unchanged_group_is_deduplicated_then_repeated() -> None:
    """Nothing new: no notification at each group_interval until repeat_interval passes."""
    d = dispatcher()
    alert = firing("DatabaseSlow")
    d.receive([alert], at(0))
    assert len(d.flush(at(30))) == 1
    for tick in range(330, 3630, 300):
        d.receive([alert], at(tick))
        assert d.flush(at(tick)) == [], tick
    d.receive([alert], at(3630))
    assert len(d.flush(at(3630))) == 1


def test_changes_wait_for_group_interval() -> None:
    """A new alert in a notified group is sent at the next group_interval, not at once."""
    d = dispatcher()
    a, b = firing("QueueBacklog", consumer="a"), firing("QueueBacklog", consumer="b")
    d.receive([a], at(0))
    d.flush(at(30))
    d.receive([a, b], at(60))
    assert d.flush(at(60)) == []
    [update] = d.flush(at(330))
    assert fingerprints(update) == (["a", "b"], [])


def test_partial_and_full_resolution() -> None:
    """One alert resolving sends a firing notification listing it as resolved; the last
    one resolving sends the group's resolved notification, and the group is gone."""
    d = dispatcher()
    a, b = firing("QueueBacklog", consumer="a"), firing("QueueBacklog", consumer="b")
    d.receive([a, b], at(0))
    d.flush(at(30))
    d.receive([a, resolved(b, 100)], at(100))
    [partial] = d.flush(at(330))
    assert partial.status == "firing" and fingerprints(partial) == (["a"], ["b"])
    d.receive([resolved(a, 400)], at(400))
    [done] = d.flush(at(630))
    assert done.status == "resolved" and fingerprints(done) == ([], ["a"])
    assert d.groups == {}


def test_fired_and_resolved_before_group_wait_sends_nothing() -> None:
    """A blip shorter than group_wait is never notified."""
    d = dispatcher()
    alert = firing("DatabaseSlow")
    d.receive([alert], at(0))
    d.receive([resolved(alert, 10)], at(10))
    assert d.flush(at(30)) == [] and d.groups == {}


def test_acknowledged_alerts_stop_repeating_but_changes_still_notify() -> None:
    """Acked alerts stay firing with no repeats; a new alert in the group is still sent."""
    d = dispatcher()
    a = firing("QueueBacklog", consumer="a")
    d.receive([a], at(0))
    d.flush(at(30))
    assert d.acknowledge([a.fingerprint], actor_id=42) == [a]
    assert d.acknowledge([a.fingerprint], actor_id=42) == []
    d.receive([a], at(3630))
    assert d.flush(at(3630)) == []
    b = firing("QueueBacklog", consumer="b")
    d.receive([a, b], at(3700))
    [update] = d.flush(at(3930))
    assert fingerprints(update) == (["a", "b"], [])
    d.receive([resolved(a, 4000), b], at(4000))
    assert a.fingerprint not in d.acknowledged


INHIBIT = InhibitRule(
    source_matchers=('severity="critical"',),
    target_matchers=('severity="warning"',),
    equal=("component",),
)


def test_critical_inhibits_warning_with_equal_labels() -> None:
    """A critical alert mutes warnings of the same component only, while it fires."""
    d = dispatcher(INHIBIT)
    down = replace(
        firing("DatabaseDown", component="database"),
        labels={"alertname": "DatabaseDown", "severity": "critical", "component": "database"},
    )
    slow = firing("DatabaseSlow", component="database")
    backlog = firing("QueueBacklog", component="queue")
    d.receive([down, slow, backlog], at(0))
    sent = {n.group_labels["alertname"] for n in d.flush(at(30))}
    assert sent == {"DatabaseDown", "QueueBacklog"}
    d.receive([resolved(down, 100), slow, backlog], at(100))
    sent = {n.group_labels["alertname"]: n.status for n in d.flush(at(330))}
    assert sent == {"DatabaseDown": "resolved", "DatabaseSlow": "firing"}


def test_an_alert_does_not_inhibit_itself() -> None:
    """Matching both sides of an inhibit rule does not mute an alert."""
    d = dispatcher(
        InhibitRule(source_matchers=("alertname=~.+",), target_matchers=("alertname=~.+",))
    )
    d.receive([firing("DatabaseSlow")], at(0))
    assert len(d.flush(at(30))) == 1


@pytest.mark.parametrize(
    ("matcher", "muted"),
    [
        ('consumer="a"', {"a"}),
        ('consumer!="a"', {"b", "c"}),
        ('consumer=~"a|b"', {"a", "b"}),
        ('consumer!~"a|b"', {"c"}),
        ("consumer=~a.*x", set()),
    ],
)
def test_silence_matchers(matcher: str, muted: set[str]) -> None:
    """Each matcher type mutes exactly the alerts it matches (regexes fully anchored)."""
    silences = Silences()
    silences.add(Silence("0" * 16, (matcher,), 42, at(0), at(3600)))
    d = dispatcher(silences=silences)
    alerts = [firing("QueueBacklog", consumer=c) for c in "abc"]
    d.receive(alerts, at(0))
    notifications = d.flush(at(30))
    shown = set(fingerprints(notifications[0])[0]) if notifications else set()
    assert shown == {"a", "b", "c"} - muted


def test_silence_expiry_and_silenced_resolution() -> None:
    """After ends_at the alert is notified again; an alert that resolves while silenced gets
    no resolve notification."""
    silences = Silences()
    silences.add(Silence("1" * 16, ("alertname=DatabaseSlow",), 42, at(0), at(100)))
    d = dispatcher(silences=silences)
    alert = firing("DatabaseSlow")
    d.receive([alert], at(0))
    assert d.flush(at(30)) == []
    assert [s.id for s in silences.sweep([alert.labels], at(100))] == ["1" * 16]
    d.receive([alert], at(330))
    assert len(d.flush(at(330))) == 1
    silences.add(Silence("2" * 16, ("alertname=DatabaseSlow",), 42, at(400), at(9999)))
    d.receive([resolved(alert, 500)], at(500))
    assert d.flush(at(630)) == [] and d.groups == {}


def test_mute_until_resolved_expires_when_its_alerts_resolve() -> None:
    """An until-resolved silence holds while a matching alert is active, then expires."""
    silences = Silences()
    silences.add(Silence("3" * 16, ("alertname=DatabaseSlow",), 42, at(0), until_resolved=True))
    alert = firing("DatabaseSlow")
    assert silences.sweep([alert.labels], at(1000)) == []
    assert silences.muting(alert.labels, at(1000)) == ("3" * 16,)
    [expired] = silences.sweep([], at(2000))
    assert expired.expired_at == at(2000) and silences.active(at(2000)) == []


def test_unsilence_expires_by_hand() -> None:
    """Expiring an active silence unmutes at once; an unknown id is None."""
    silences = Silences()
    silences.add(Silence("4" * 16, ("alertname=X",), 42, at(0), at(100)))
    assert silences.expire("4" * 16, at(10)) is not None
    assert silences.muting({"alertname": "X"}, at(11)) == ()
    assert silences.expire("4" * 16, at(12)) is None
