"""When the database is dead: every asker gets a sentence they can act on, the admins get paged,
and the services keep running. Real NATS, the real aiogram gateway, a fake Bot API."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from uuid import uuid4

import nats
import pytest

from tally.alerts.app import create_broker_for as alerts_broker
from tally.alerts.config import AlertsSettings
from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import Subjects
from tally.executor.app import create_broker_for as executor_broker
from tally.executor.config import ExecutorSettings
from tally.executor.runner import Reader
from tally.gateway.app import running_gateway
from tally.gateway.config import GatewaySettings
from tally.infra.settings import CommonSettings
from tally.nl2sql.app import create_broker_for as nl2sql_broker
from tally.nl2sql.config import Nl2sqlSettings
from tally.testing.telegram import DEFAULT_TOKEN, FakeTelegram

ADMIN_CHAT = -9001
DEAD_DATABASE = "postgresql://tally_reader@127.0.0.1:1/nowhere"


RULES = """
evaluation_interval: 100ms
route: {group_by: [alertname], group_wait: 200ms, group_interval: 1s, repeat_interval: 1h}
rules:
  - name: HighQuestionErrorRate
    source: {metric: question_failure_ratio, reduce: avg, window: 1m, min_samples: 3}
    condition: {op: ">=", threshold: 0.5}
    severity: critical
    labels: {component: questions}
    summary: "{value} of questions failed"
"""
"""The shipped rule, with the pending and grouping times of a test."""


@pytest.fixture(scope="module")
async def telegram(
    settings: CommonSettings, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FakeTelegram]:
    """nl2sql, an executor whose database is unreachable, alerts (3 questions, 50 %, 60 s:
    :data:`RULES`) and the gateway, on a subject prefix of their own; the fake Bot API they
    talk to."""
    base = {**settings.model_dump(), "subject_prefix": f"f{uuid4().hex[:10]}"}
    subjects = Subjects(base["subject_prefix"])
    client = await nats.connect(settings.nats_url)
    await ensure_streams(client.jetstream(), subjects)
    async with AsyncExitStack() as services, FakeTelegram() as fake:
        reader = Reader(ExecutorSettings(**base, executor_database_url=DEAD_DATABASE))
        services.push_async_callback(reader.close)
        rules = tmp_path_factory.mktemp("alerts") / "rules.yaml"
        rules.write_text(RULES)
        alerts, evaluation = alerts_broker(AlertsSettings(**base, alert_rules_file=rules))
        for broker in (
            nl2sql_broker(Nl2sqlSettings(**base)),
            executor_broker(ExecutorSettings(**base), reader),
            alerts,
        ):
            await broker.start()
            services.push_async_callback(broker.stop)
        await evaluation.start()
        services.push_async_callback(evaluation.stop)
        gateway = GatewaySettings(
            **base,
            bot_token=DEFAULT_TOKEN,
            telegram_api_base=fake.base_url,
            admin_chat_ids=[ADMIN_CHAT],
        )
        await services.enter_async_context(running_gateway(gateway))
        yield fake
    await delete_streams(client.jetstream(), subjects)
    await client.close()


async def test_dead_database_gives_each_asker_a_sentence_and_pages_admins(
    telegram: FakeTelegram,
) -> None:
    """Three questions fail for want of a database: three actionable replies, then one alert."""
    askers = (701, 702, 703)
    for user in askers:
        telegram.push_message(chat_id=user, user_id=user, text="How many videos are in the system?")
    for user in askers:
        [reply] = await telegram.wait_sent(chat_id=user, timeout=10)
        assert "database is not answering" in reply.text
        assert "Traceback" not in reply.text
    [alert] = await telegram.wait_sent(chat_id=ADMIN_CHAT, timeout=10)
    assert "FIRING" in alert.text and "HighQuestionErrorRate" in alert.text


async def test_questions_that_need_no_database_still_work(telegram: FakeTelegram) -> None:
    """nl2sql answers a refusal on its own, so an unknown question is still answered."""
    telegram.push_message(chat_id=704, user_id=704, text="what's the weather like?")
    [reply] = await telegram.wait_sent(chat_id=704, timeout=10)
    assert "How many videos are in the system?" in reply.text
