"""Two gateways behind one webhook address, as processes on real NATS, re-asking late
questions: every question gets exactly one reply, sent by the gateway that took it; a
user's next update may reach the other gateway, which knows what the first one offered and
how fast the user writes (tally.gateway.shared).

Each gateway talks to its own fake Bot API, so a reply shows which gateway sent it. The
nl2sql stand-in answers each delivery of a question 1.5 s after it came, through
``publish_answer``: later than the gateways' re-ask (0.3 s, looked for every 0.5 s), so
every question is answered at least twice, as when a replica is only slow. Private messages
are throttled to one per THROTTLE_INTERVAL_S, long enough that no test outruns it.
"""

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass

import httpx
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from tally.cli.embedded import free_port
from tally.contracts.events import Choice, QueryPlanned, QuestionAnswered, QuestionAsked
from tally.contracts.subjects import Subjects
from tally.gateway.webhook import SECRET_HEADER
from tally.infra.settings import CommonSettings
from tally.runtime.answers import publish_answer
from tally.semantic.plan import Aggregate, Dataset, Measure, QueryPlan
from tally.testing.processes import stop_group
from tally.testing.telegram import DEFAULT_TOKEN, FakeTelegram
from tally.testing.waiting import until

SECRET = "several-gateways-secret_0123456789"
ANSWER_AFTER_S = 1.5
REASK_AFTER_S = 0.3
QUESTIONS = 12
THROTTLE_INTERVAL_S = 30

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("streams")]


@dataclass
class RunningGateway:
    """One gateway process in webhook mode, and the fake Bot API it sends to."""

    instance: str
    telegram: FakeTelegram
    webhook: str
    process: asyncio.subprocess.Process


class NatsPublisher:
    """``publish_answer``'s Publisher on a plain nats-py connection."""

    def __init__(self, nc: Client) -> None:
        self.nc = nc

    async def publish(
        self, message: QuestionAnswered, subject: str, *, headers: dict[str, str]
    ) -> None:
        await self.nc.publish(subject, message.model_dump_json().encode(), headers=headers)


class SlowNl2sql:
    """Answers every delivery of a question ``ANSWER_AFTER_S`` after it came."""

    def __init__(self, nc: Client, subjects: Subjects) -> None:
        self.publisher, self.subjects = NatsPublisher(nc), subjects
        self.deliveries: dict[str, int] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    async def on_question(self, message: Msg) -> None:
        question = QuestionAsked.model_validate_json(message.data)
        key = str(question.question_id)
        self.deliveries[key] = self.deliveries.get(key, 0) + 1
        task = asyncio.create_task(self._answer(question))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _answer(self, question: QuestionAsked) -> None:
        await asyncio.sleep(ANSWER_AFTER_S)
        answer = QuestionAnswered(question=question, outcome="answered", value=42)
        await publish_answer(self.publisher, answer, self.subjects)


async def _ready(telegram: FakeTelegram, process: asyncio.subprocess.Process) -> None:
    """Return once the gateway called setWebhook (its webhook server listens by then)."""

    def listening() -> bool:
        assert process.returncode is None, "a gateway exited at start"
        return telegram.webhook is not None

    await until(listening, timeout_s=60, what="a gateway's setWebhook", every_s=0.2)


async def _start(settings: CommonSettings, instance: str, stack: AsyncExitStack) -> RunningGateway:
    telegram = await stack.enter_async_context(FakeTelegram())
    webhook_port, metrics_port = free_port(), free_port()
    environment = {
        **os.environ,
        "NATS_URL": settings.nats_url,
        "DATABASE_URL": settings.database_url,
        "SUBJECT_PREFIX": settings.subject_prefix,
        "BOT_TOKEN": DEFAULT_TOKEN,
        "TELEGRAM_API_BASE": telegram.base_url,
        "WEBHOOK_URL": "https://tally.example.org/telegram/webhook",
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_PORT": str(webhook_port),
        "METRICS_PORT": str(metrics_port),
        "GATEWAY_INSTANCE": instance,
        "REASK_AFTER_S": str(REASK_AFTER_S),
        "THROTTLE_INTERVAL_S": str(THROTTLE_INTERVAL_S),
    }
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "tally.gateway"),
        env=environment,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    stack.push_async_callback(stop_group, process)
    await _ready(telegram, process)
    webhook = f"http://127.0.0.1:{webhook_port}/telegram/webhook"
    return RunningGateway(instance, telegram, webhook, process)


@pytest.fixture(scope="module")
async def gateways(settings: CommonSettings) -> AsyncIterator[tuple[RunningGateway, ...]]:
    """Gateways ``a`` and ``b``, each on its own fake Bot API, for the module's tests (each
    writes as users of its own)."""
    async with AsyncExitStack() as stack:
        started = await asyncio.gather(*(_start(settings, name, stack) for name in "ab"))
        yield tuple(started)


@pytest.fixture
async def nl2sql(nc: Client, subjects: Subjects) -> AsyncIterator[SlowNl2sql]:
    stand_in = SlowNl2sql(nc, subjects)
    subscription = await nc.subscribe(subjects.question_asked, cb=stand_in.on_question)
    await nc.flush()
    yield stand_in
    await subscription.unsubscribe()
    for task in list(stand_in.tasks):
        task.cancel()


async def test_each_question_is_answered_once_by_the_gateway_that_took_it(
    gateways: tuple[RunningGateway, ...], nl2sql: SlowNl2sql
) -> None:
    """Questions alternate between the gateways (a load balancer's round robin); each is
    asked again and answered twice, yet each asker gets one reply, from its own gateway."""
    users: dict[str, list[int]] = {gateway.instance: [] for gateway in gateways}
    askers = range(50_000, 50_000 + QUESTIONS)
    async with httpx.AsyncClient(timeout=5) as client:
        for number in range(QUESTIONS):
            gateway = gateways[number % len(gateways)]
            user = askers[number]
            update = gateway.telegram.update(
                gateway.telegram.push_message(user, user, "How many videos are there?")
            )
            response = await client.post(
                gateway.webhook, json=update, headers={SECRET_HEADER: SECRET}
            )
            assert response.status_code == 200
            users[gateway.instance].append(user)
    for gateway in gateways:
        for user in users[gateway.instance]:
            await gateway.telegram.wait_sent(chat_id=user, timeout=15)
    await asyncio.sleep(2 * ANSWER_AFTER_S + 1)
    assert all(count >= 2 for count in nl2sql.deliveries.values()), nl2sql.deliveries
    assert len(nl2sql.deliveries) == QUESTIONS
    for gateway in gateways:
        mine = [message for message in gateway.telegram.sent if message.chat_id in askers]
        assert sorted(message.chat_id for message in mine) == users[gateway.instance]
        assert all("42" in message.text for message in mine)


class Executor:
    """Answers every plan on ``plans.ready`` at once, its interpretation as the answer's, to
    the gateway the question names (``publish_answer``)."""

    def __init__(self, nc: Client, subjects: Subjects) -> None:
        self.publisher, self.subjects = NatsPublisher(nc), subjects
        self.planned: list[QueryPlanned] = []

    async def on_plan(self, message: Msg) -> None:
        planned = QueryPlanned.model_validate_json(message.data)
        self.planned.append(planned)
        answer = QuestionAnswered(
            question=planned.question,
            outcome="answered",
            value=1,
            interpretation=planned.plan.interpretation,
        )
        await publish_answer(self.publisher, answer, self.subjects)


@pytest.fixture
async def executor(nc: Client, subjects: Subjects) -> AsyncIterator[Executor]:
    stand_in = Executor(nc, subjects)
    subscription = await nc.subscribe(subjects.plan_ready, cb=stand_in.on_plan)
    await nc.flush()
    yield stand_in
    await subscription.unsubscribe()


def _reading(column: str) -> Choice:
    measure = Measure(aggregate=Aggregate.SUM, column=column)
    plan = QueryPlan(dataset=Dataset.VIDEOS, measure=measure, interpretation=f"sum of {column}")
    return Choice(label=f"the {column}", plan=plan)


async def _post(client: httpx.AsyncClient, gateway: RunningGateway, update_id: int) -> None:
    """POST pushed update ``update_id`` of ``gateway``'s fake Bot API to its webhook, as the
    load balancer would."""
    update = gateway.telegram.update(update_id)
    response = await client.post(gateway.webhook, json=update, headers={SECRET_HEADER: SECRET})
    assert response.status_code == 200


async def test_a_reading_offered_by_one_gateway_is_picked_on_the_other(
    gateways: tuple[RunningGateway, ...], nc: Client, subjects: Subjects, executor: Executor
) -> None:
    """Gateway a offers two readings; the asker's press reaches gateway b, which plans the
    reading pressed once, its answer coming back to b; a second press, on a, is expired."""
    a, b = gateways
    user = 51_000
    question = QuestionAsked(
        channel="telegram", chat_id=user, user_id=user, language="en", text="Views?"
    )
    readings = (_reading("views_count"), _reading("likes_count"))
    ambiguous = QuestionAnswered(
        question=question.model_copy(update={"reply_to": a.instance}),
        outcome="ambiguous",
        reason="Which do you mean?",
        choices=readings,
    )
    await publish_answer(NatsPublisher(nc), ambiguous, subjects)
    [offer] = await a.telegram.wait_sent(chat_id=user)
    data = offer.reply_markup["inline_keyboard"][1][0]["callback_data"]  # type: ignore[index]

    async with httpx.AsyncClient(timeout=5) as client:
        on_b = b.telegram.push_callback(user, user, data)
        await _post(client, b, on_b)
        press = await b.telegram.wait_press(on_b)
        [reply] = await b.telegram.wait_sent(chat_id=user)
        on_a = a.telegram.push_callback(user, user, data)
        await _post(client, a, on_a)
        again = await a.telegram.wait_press(on_a)

    assert press.notice is None
    assert "sum of likes_count" in reply.text
    assert again.notice == "This question has expired, please ask again."
    [planned] = executor.planned
    assert planned.plan == readings[1].plan
    assert planned.question.reply_to == b.instance
    await a.telegram.assert_nothing_sent(chat_id=user)
    await b.telegram.assert_nothing_sent(chat_id=user)


async def test_a_user_throttled_on_one_gateway_is_throttled_on_the_other(
    gateways: tuple[RunningGateway, ...], nc: Client, subjects: Subjects
) -> None:
    """A question to gateway a passes; the user's next message, reaching gateway b within
    the interval, is dropped with a "slow down"; the one after, back on a, is dropped
    silently (the warning was given): one question published in all."""
    a, b = gateways
    user = 52_000
    asked: set[str] = set()

    async def on_question(message: Msg) -> None:
        question = QuestionAsked.model_validate_json(message.data)
        if question.user_id == user:
            asked.add(str(question.question_id))

    subscription = await nc.subscribe(subjects.question_asked, cb=on_question)
    async with httpx.AsyncClient(timeout=5) as client:
        await _post(client, a, a.telegram.push_message(user, user, "How many videos?"))
        await until(lambda: len(asked) == 1)
        await _post(client, b, b.telegram.push_message(user, user, "How many likes?"))
        [warning] = await b.telegram.wait_sent(chat_id=user)
        await _post(client, a, a.telegram.push_message(user, user, "How many views?"))
        await a.telegram.assert_nothing_sent(within=1.0, chat_id=user)
    await subscription.unsubscribe()

    assert "too fast" in warning.text
    assert len(asked) == 1


async def test_sql_on_one_gateway_explains_the_answer_the_other_sent(
    gateways: tuple[RunningGateway, ...], nc: Client, subjects: Subjects
) -> None:
    """Gateway a sends an answer; the asker's /sql, reaching gateway b, shows its SQL."""
    a, b = gateways
    user = 53_000
    question = QuestionAsked(
        channel="telegram",
        chat_id=user,
        user_id=user,
        language="en",
        text="How many videos?",
        reply_to=a.instance,
    )
    answer = QuestionAnswered(
        question=question, outcome="answered", value=7, sql="SELECT count(*) FROM videos"
    )
    await publish_answer(NatsPublisher(nc), answer, subjects)
    await a.telegram.wait_sent(chat_id=user)

    async with httpx.AsyncClient(timeout=5) as client:
        await _post(client, b, b.telegram.push_message(user, user, "/sql"))
        [explained] = await b.telegram.wait_sent(chat_id=user)

    assert "SELECT count(*) FROM videos" in explained.text
