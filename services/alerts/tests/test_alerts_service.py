"""The alerts service on real NATS: failed answers raise an alert, and it resolves."""

import asyncio
import time

import nats
import pytest

from tally.alerts.app import create_broker_for
from tally.alerts.config import AlertsSettings
from tally.common.events import AlertNotice, QuestionAnswered, QuestionAsked
from tally.common.settings import CommonSettings
from tally.common.subjects import Subjects


async def test_failure_spike_fires_then_resolves(
    settings: CommonSettings, subjects: Subjects, streams: None
) -> None:
    """Five failed answers of five fire `HighQuestionFailureRate`; it resolves after the window."""
    alert_settings = AlertsSettings(
        **settings.model_dump(),
        alert_window_s=1.0,
        alert_min_questions=5,
        alert_failure_rate=0.5,
        alert_check_interval_s=0.1,
    )
    broker, monitor = create_broker_for(alert_settings)
    await broker.start()
    checks = asyncio.create_task(monitor.run_checks(broker))
    client = await nats.connect(settings.nats_url)
    notices = await client.subscribe(subjects.alerts_all)
    try:
        for n in range(5):
            question = QuestionAsked(channel="cli", chat_id=n, user_id=n, language="en", text="q")
            answer = QuestionAnswered(question=question, outcome="failed", reason="db down")
            await client.publish(
                subjects.answer("cli", str(question.question_id)), answer.model_dump_json().encode()
            )
        fired = AlertNotice.model_validate_json((await notices.next_msg(timeout=5)).data)
        assert (fired.status, fired.value) == ("firing", 1.0)
        resolved = AlertNotice.model_validate_json((await notices.next_msg(timeout=5)).data)
        assert resolved.status == "resolved"
    finally:
        checks.cancel()
        await client.close()
        await broker.stop()


@pytest.mark.parametrize("payload", [b"not json", b'{"question": 1}'])
async def test_garbage_on_answers_is_ignored(
    settings: CommonSettings, subjects: Subjects, streams: None, payload: bytes
) -> None:
    """Malformed answers do not count and do not stop the service."""
    broker, monitor = create_broker_for(AlertsSettings(**settings.model_dump()))
    await broker.start()
    client = await nats.connect(settings.nats_url)
    await client.publish(subjects.answer("cli", "x"), payload)
    await client.flush()
    await asyncio.sleep(0.2)
    assert monitor.window.rate(time.time())[1] == 0
    await client.close()
    await broker.stop()
