"""The alerts service on real NATS and PostgreSQL: failed answers fire an alert that is
notified on the bus, an admin silences it by request/reply, history is stored, and once the
failures leave the window the alert resolves."""

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import asyncpg
import nats
import pytest
from nats.aio.subscription import Subscription

from tally.alerts.app import AlertsService, create_broker_for
from tally.alerts.config import AlertsSettings
from tally.contracts.alerting import AlertCommand, AlertCommandReply, AlertNotification
from tally.contracts.events import QuestionAnswered, QuestionAsked, utcnow
from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import Subjects
from tally.infra.db.session import asyncpg_dsn
from tally.infra.settings import CommonSettings

RULES = """
evaluation_interval: 100ms
route: {group_by: [alertname], group_wait: 200ms, group_interval: 300ms, repeat_interval: 1h}
rules:
  - name: NAME
    source: {metric: question_failure_ratio, reduce: avg, window: 2s, min_samples: 3}
    condition: {op: ">=", threshold: 0.5}
    severity: critical
    labels: {component: questions}
    summary: "{value} of questions failed"
"""


@pytest.fixture(scope="module")
def settings(settings: CommonSettings) -> CommonSettings:
    """This module's own subject prefix: other tests' failed answers on the session's
    subjects would change the failure ratio these rules see."""
    return settings.model_copy(update={"subject_prefix": f"al{uuid4().hex[:10]}"})


@pytest.fixture(scope="module")
def subjects(settings: CommonSettings) -> Subjects:
    return Subjects(settings.subject_prefix)


@pytest.fixture(scope="module")
async def streams(settings: CommonSettings, subjects: Subjects) -> AsyncIterator[None]:
    """This module's streams, removed afterwards."""
    client = await nats.connect(settings.nats_url)
    await ensure_streams(client.jetstream(), subjects)
    yield
    await delete_streams(client.jetstream(), subjects)
    await client.close()


@pytest.fixture
async def alerts(
    settings: CommonSettings, streams: None, tmp_path: Path
) -> AsyncIterator[tuple[AlertsService, str]]:
    """The alerts service running on a rules file with one easy-to-trip rule of a fresh
    name (so this test's history rows are its own)."""
    name = f"Failing{uuid4().hex[:8]}"
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.replace("NAME", name))
    alert_settings = AlertsSettings(
        **settings.model_dump(), alert_rules_file=path, alert_probe_timeout_s=1.0
    )
    broker, service = create_broker_for(alert_settings)
    await broker.start()
    await service.start()
    yield service, name
    await service.stop()
    await broker.stop()


async def _publish_failures(client: nats.NATS, subjects: Subjects, count: int) -> None:
    for n in range(count):
        question = QuestionAsked(channel="cli", chat_id=n, user_id=n, language="en", text="q")
        answer = QuestionAnswered(question=question, outcome="failed", reason="db down")
        subject = subjects.answer("cli", str(question.question_id))
        await client.publish(subject, answer.model_dump_json().encode())


async def _next(subscription: Subscription) -> AlertNotification:
    return AlertNotification.model_validate_json((await subscription.next_msg(timeout=5)).data)


async def _command(
    client: nats.NATS, subjects: Subjects, command: AlertCommand
) -> AlertCommandReply:
    reply = await client.request(
        subjects.alert_command, command.model_dump_json().encode(), timeout=5
    )
    return AlertCommandReply.model_validate_json(reply.data)


async def test_fire_silence_history_resolve(
    alerts: tuple[AlertsService, str], settings: CommonSettings, subjects: Subjects
) -> None:
    """Three failed answers of three fire the rule; the notification names it; a silence by
    group id answers with a sentence; fired, notified and silenced rows are stored; after
    the silence is lifted and the failures leave the 2 s window, the group resolves."""
    service, name = alerts
    client = await nats.connect(settings.nats_url)
    database = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    notices = await client.subscribe(subjects.alerts_all)
    try:
        await _publish_failures(client, subjects, 3)
        fired = await _next(notices)
        assert fired.status == "firing" and fired.group_labels == {"alertname": name}
        [alert] = fired.alerts
        assert (alert.name, alert.value, alert.summary) == (name, 1.0, "1 of questions failed")

        silence = AlertCommand(action="silence", actor_id=77, target=fired.group_id, duration_s=600)
        reply = await _command(client, subjects, silence)
        [view] = reply.silences
        assert (
            reply.ok and reply.message == f"Silenced 1 alert for 10 min (silence {view.id[:4]}…)."
        )
        rows = await database.fetch(
            "SELECT event, actor_id, labels->>'alertname' AS name FROM alert_history"
            " WHERE fingerprint = $1 ORDER BY id",
            alert.fingerprint,
        )
        assert [(r["event"], r["actor_id"], r["name"]) for r in rows] == [
            ("fired", None, name),
            ("notified", None, name),
            ("silenced", 77, name),
        ]
        stored = await database.fetchrow("SELECT * FROM alert_silences WHERE id = $1", view.id)
        assert stored is not None and stored["created_by"] == 77 and stored["expired_at"] is None

        lifted = await _command(
            client, subjects, AlertCommand(action="unsilence", actor_id=77, target=view.id)
        )
        assert lifted.ok
        resolved = await _next(notices)
        assert resolved.status == "resolved" and resolved.group_id == fired.group_id
        events = await database.fetch(
            "SELECT event FROM alert_history WHERE fingerprint = $1 ORDER BY id", alert.fingerprint
        )
        assert [r["event"] for r in events][-3:] == ["unsilenced", "resolved", "notified"]
        assert await database.fetchval(
            "SELECT expired_at IS NOT NULL FROM alert_silences WHERE id = $1", view.id
        )
        assert await service.database_ready()
    finally:
        await database.close()
        await client.close()


async def test_silences_survive_a_restart(
    settings: CommonSettings, streams: None, subjects: Subjects
) -> None:
    """An active silence stored by one process is active in the next one."""
    alert_settings = AlertsSettings(**settings.model_dump())
    now = utcnow()
    _, first = create_broker_for(alert_settings)
    await first.engine.start(now)
    silence, _ = await first.engine.silence(
        ["alertname=Nothing"], actor_id=5, now=now, duration_s=3600, comment="restart"
    )
    await first.database.dispose()
    _, second = create_broker_for(alert_settings)
    await second.engine.start(now)
    assert silence.id in [view.id for view in second.engine.silence_views(now)]
    await second.database.dispose()


async def test_sighup_reloads_the_rules(alerts: tuple[AlertsService, str], tmp_path: Path) -> None:
    """SIGHUP re-reads the rules file at once (a new rule name is in force)."""
    service, _ = alerts
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.replace("NAME", "Reloaded"))
    os.utime(path, (1, 1))  # an old mtime: only the signal can make it re-read
    service.evaluation.rules.mtime = 1
    os.kill(os.getpid(), signal.SIGHUP)
    for _ in range(50):
        if [r.name for r in service.engine.config.rules] == ["Reloaded"]:
            break
        await asyncio.sleep(0.05)
    assert [r.name for r in service.engine.config.rules] == ["Reloaded"]


@pytest.mark.parametrize("payload", [b"not json", b'{"question": 1}'])
async def test_garbage_on_answers_is_ignored(
    settings: CommonSettings, subjects: Subjects, streams: None, payload: bytes
) -> None:
    """Malformed answers record no sample and do not stop the service."""
    broker, service = create_broker_for(AlertsSettings(**settings.model_dump()))
    await broker.start()
    client = await nats.connect(settings.nats_url)
    await client.publish(subjects.answer("cli", "x"), payload)
    await client.flush()
    await asyncio.sleep(0.2)
    assert list(service.engine.samples.series("questions")) == []
    await client.close()
    await broker.stop()
    await service.database.dispose()


async def test_alerts_enabled_false_evaluates_nothing_and_stays_healthy(
    settings: CommonSettings, subjects: Subjects, streams: None, tmp_path: Path
) -> None:
    """ALERTS_ENABLED=false: failures that trip the rule notify nothing, /alerts says
    alerting is off, and the service answers commands and its readiness check."""
    path = tmp_path / "rules.yaml"
    path.write_text(RULES.replace("NAME", f"Off{uuid4().hex[:8]}"))
    environment = {"ALERTS_ENABLED": "false"}
    os.environ.update(environment)
    try:
        alert_settings = AlertsSettings(
            **settings.model_dump(), alert_rules_file=path, alert_probe_timeout_s=1.0
        )
    finally:
        for key in environment:
            del os.environ[key]
    assert alert_settings.alerts_enabled is False
    broker, service = create_broker_for(alert_settings)
    await broker.start()
    await service.start()
    client = await nats.connect(settings.nats_url)
    try:
        notifications = await client.subscribe(subjects.alerts_all)
        await _publish_failures(client, subjects, 10)
        with pytest.raises(nats.errors.TimeoutError):
            await notifications.next_msg(timeout=1.5)
        reply = await _command(client, subjects, AlertCommand(action="alerts", actor_id=1))
        assert reply.message == "Alerting is off (ALERTS_ENABLED=false): no rule is evaluated."
        assert await service.database_ready()
    finally:
        await client.close()
        await service.stop()
        await broker.stop()
