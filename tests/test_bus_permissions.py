"""The bus permission test: a real nats-server with the generated configuration refuses a
client without credentials, refuses each identity what its contract does not grant, and lets
each do what it must (its subjects, its JetStream consumers and buckets)."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from uuid import uuid4

import nats
import nats.errors
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js.errors import KeyNotFoundError

from tally.cli.embedded import EmbeddedNats, free_port
from tally.contracts.access import IDENTITIES, Identity, permissions
from tally.contracts.streams import ensure_streams
from tally.contracts.subjects import (
    ALERTS_DURABLE,
    AUDIT_DURABLE,
    CHATS_DURABLE,
    VIDEOS_DURABLE,
    Subjects,
)
from tally.runtime.nats_config import server_config

pytestmark = pytest.mark.timeout(120)
VIOLATION_WAIT_S = 2.0
CHAT = -1001234


@dataclass
class Bus:
    """An authorizing nats-server for one deployment prefix, and its users' passwords."""

    url: str
    subjects: Subjects
    passwords: dict[Identity, str]
    clients: list["Login"] = field(default_factory=list)

    async def login(self, identity: Identity) -> "Login":
        """A connection as ``identity``, its permission errors collected."""
        errors: list[str] = []

        async def collect(error: Exception) -> None:
            errors.append(str(error))

        client = await nats.connect(
            self.url,
            user=identity,
            password=self.passwords[identity],
            error_cb=collect,
            allow_reconnect=False,
        )
        login = Login(identity, client, errors)
        self.clients.append(login)
        return login


@dataclass
class Login:
    identity: Identity
    client: Client
    errors: list[str]

    async def violation(self, subject: str, *, timeout_s: float = VIOLATION_WAIT_S) -> str:
        """The permissions violation the server reported for ``subject`` (waits for it)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while loop.time() < deadline:
            for error in self.errors:
                if (
                    f'permissions violation for publish to "{subject.lower()}"' in error.lower()
                    or f'subscription to "{subject.lower()}"' in error.lower()
                ):
                    return error
            await asyncio.sleep(0.02)
        raise AssertionError(f"{self.identity}: no violation for {subject}: {self.errors}")


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[str, Subjects, dict[Identity, str]]]:
    """nats-server (the wheel's) on a free port with the generated configuration."""
    home = tmp_path_factory.mktemp("bus")
    subjects = Subjects(f"b{uuid4().hex[:8]}")
    passwords: dict[Identity, str] = {i: f"{i}-{uuid4().hex}" for i in IDENTITIES}
    embedded = EmbeddedNats(home / "nats", port=free_port())
    config = home / "nats.conf"
    config.write_text(
        server_config(
            permissions(subjects),
            passwords,
            host="127.0.0.1",
            port=embedded.port,
            store_dir=embedded.data_dir,
            log_file=embedded.log_file,
        )
    )
    try:
        yield embedded.start(config=config), subjects, passwords
    finally:
        embedded.stop()


@pytest.fixture
async def bus(server: tuple[str, Subjects, dict[Identity, str]]) -> AsyncIterator[Bus]:
    """The server with the deployment's streams and buckets declared by ``admin``."""
    url, subjects, passwords = server
    bus = Bus(url, subjects, passwords)
    admin = await bus.login("admin")
    await ensure_streams(admin.client.jetstream(), subjects)
    try:
        yield bus
    finally:
        for login in bus.clients:
            with contextlib.suppress(Exception):
                await login.client.close()


async def test_a_client_without_credentials_is_refused(bus: Bus) -> None:
    """No user, an unknown user, a wrong password: the server refuses the connection."""
    attempts: list[dict[str, str]] = [
        {},
        {"user": "mallory", "password": "x" * 20},
        {"user": "gateway", "password": bus.passwords["executor"]},
    ]
    for credentials in attempts:
        with pytest.raises((nats.errors.Error, OSError)):
            await nats.connect(
                bus.url, **credentials, allow_reconnect=False, max_reconnect_attempts=0
            )


def _refused_publishes(s: Subjects) -> list[tuple[Identity, str]]:
    """Subjects each identity does not own, among those the issue names."""
    answer = s.answer("telegram", "q1")
    settings = f"{s.prefix}.chats.{CHAT}.settings"
    message = f"{s.prefix}.chats.{CHAT}.message"
    answers_cache = f"$KV.{s.answers_bucket}.answer.0123"
    chat_settings = f"$KV.{s.chat_settings_bucket}.{CHAT}"
    return [
        ("gateway", answer),
        ("gateway", s.alert("firing")),
        ("gateway", answers_cache),
        ("gateway", chat_settings),
        ("gateway", f"$JS.API.STREAM.DELETE.{s.chat_events_stream}"),
        ("nl2sql", s.alert_command),
        ("nl2sql", message),
        ("nl2sql", s.question_asked),
        ("nl2sql", answers_cache),
        ("executor", s.question_asked),
        ("executor", settings),
        ("executor", s.alert("resolved")),
        ("ingest", answer),
        ("ingest", s.alert("firing")),
        ("ingest", settings),
        ("ingest", f"$KV.{s.answers_bucket}.answer.0123"),
        ("alerts", answer),
        ("alerts", s.alert_command),
        ("alerts", chat_settings),
        ("dashboard", answer),
        ("dashboard", message),
        ("dashboard", s.question_asked),
        ("dashboard", s.alert_command),
        ("dashboard", chat_settings),
        ("cli", answer),
        ("cli", settings),
        ("cli", s.alert_command),
        ("cli", answers_cache),
    ]


async def test_each_identity_is_refused_what_it_does_not_own(bus: Bus) -> None:
    """Publishing an answer, settings, an alert, an alert command or a cache entry as a
    service that does not own it is a permissions violation, and nobody receives it."""
    s = bus.subjects
    watcher = await bus.login("admin")
    seen: list[str] = []

    async def record(message: Msg) -> None:
        seen.append(message.subject)

    await watcher.client.subscribe(f"{s.prefix}.>", cb=record)
    await _settled(watcher.client)
    logins = {identity: await bus.login(identity) for identity in IDENTITIES}
    refused = _refused_publishes(s)
    for identity, subject in refused:
        await logins[identity].client.publish(subject, b'{"forged": true}')
    await asyncio.gather(*(_settled(logins[i].client) for i in logins))
    for identity, subject in refused:
        await logins[identity].violation(subject)
    await asyncio.sleep(0.2)
    assert seen == []
    cache = await watcher.client.jetstream().key_value(s.answers_bucket)
    with pytest.raises(KeyNotFoundError):
        await cache.get("answer.0123")


async def test_each_identity_is_refused_what_it_may_not_read(bus: Bus) -> None:
    """Subscribing to everything, to another channel's answers or to questions it does not
    handle is refused."""
    s = bus.subjects
    refused: list[tuple[Identity, str]] = [
        ("gateway", ">"),
        ("gateway", s.answers_for("cli")),
        ("gateway", s.question_asked),
        ("nl2sql", s.chat_events_all),
        ("executor", s.answers_all),
        ("dashboard", s.question_asked),
        ("cli", s.answers_for("telegram")),
        ("alerts", s.plan_ready),
        ("ingest", s.question_asked),
    ]
    for identity, subject in refused:
        login = await bus.login(identity)
        await login.client.subscribe(subject)
        await login.client.flush()
        assert "subscription" in (await login.violation(subject)).lower()


async def test_each_identity_can_do_what_it_must(bus: Bus) -> None:
    """The contract's flows, each as its own identity, with no permissions violation: the
    gateway asks, nl2sql plans and answers, the executor answers requests and caches,
    ingest consumes every stream and owns its buckets, alerts consumes answers and answers
    commands, the dashboard changes settings, the CLI asks, the operator replays and
    imports."""
    s = bus.subjects
    logins = {identity: await bus.login(identity) for identity in IDENTITIES}
    gateway, nl2sql, executor = logins["gateway"], logins["nl2sql"], logins["executor"]
    ingest, alerts, dashboard, cli = (
        logins["ingest"],
        logins["alerts"],
        logins["dashboard"],
        logins["cli"],
    )
    await _questions_and_answers(s, gateway, nl2sql, executor, cli)
    await _requests(s, gateway, executor, alerts)
    await _chat_events_and_settings(s, gateway, dashboard, ingest)
    await _digests(s, gateway, executor, alerts)
    await _gateway_state(s, gateway)
    await _answer_cache(s, executor, ingest)
    await _consumers(s, ingest, alerts, logins["admin"])
    await _monitoring(s, executor, alerts, cli)
    await _operator(s, logins["admin"])
    for login in logins.values():
        assert login.errors == [], login.identity


async def _settled(client: Client) -> None:
    """Return once the server has what ``client`` sent. nats-py 2.16's flush writes its PING
    straight to the socket, ahead of commands still queued for its flusher task, so one
    PONG does not prove a SUB arrived; the second PING goes after them."""
    await client.flush()
    await client.flush()


async def _flush(*logins: Login) -> None:
    await asyncio.gather(*(_settled(login.client) for login in logins))


async def _received(client: Client, subject: str, queue: str = "") -> "asyncio.Queue[Msg]":
    box: asyncio.Queue[Msg] = asyncio.Queue()

    async def put(message: Msg) -> None:
        await box.put(message)

    await client.subscribe(subject, queue=queue, cb=put)
    await _settled(client)
    return box


async def _questions_and_answers(
    s: Subjects, gateway: Login, nl2sql: Login, executor: Login, cli: Login
) -> None:
    questions = await _received(nl2sql.client, s.question_asked, "nl2sql")
    plans = await _received(executor.client, s.plan_ready, "executor")
    proposals = await _received(executor.client, s.sql_proposed, "executor")
    telegram = await _received(gateway.client, s.answers_for("telegram"), "gateway")
    terminal = await _received(cli.client, s.answers_for("cli"))
    await gateway.client.publish(s.question_asked, b"{}")
    await cli.client.publish(s.question_asked, b"{}", reply=cli.client.new_inbox())
    await gateway.client.publish(s.plan_ready, b"{}")
    await cli.client.publish(s.plan_ready, b"{}")
    await nl2sql.client.publish(s.plan_ready, b"{}")
    await nl2sql.client.publish(s.sql_proposed, b"{}")
    await nl2sql.client.publish(s.answer("telegram", "q1"), b"{}")
    await executor.client.publish(s.answer("cli", "q2"), b"{}")
    await _flush(gateway, cli, nl2sql, executor)
    for box, count in ((questions, 2), (plans, 3), (proposals, 1), (telegram, 1), (terminal, 1)):
        for _ in range(count):
            await asyncio.wait_for(box.get(), 5)


async def _requests(s: Subjects, gateway: Login, executor: Login, alerts: Login) -> None:
    async def reply(message: Msg) -> None:
        await message.respond(b"{}")

    for subject in (s.chat_report, s.ops_report):
        await executor.client.subscribe(subject, queue="executor", cb=reply)
    await alerts.client.subscribe(s.alert_command, queue="alerts", cb=reply)
    await asyncio.gather(_settled(executor.client), _settled(alerts.client))
    for subject in (s.chat_report, s.ops_report, s.alert_command):
        assert (await gateway.client.request(subject, b"{}", timeout=5)).data == b"{}"
    alerted = await _received(gateway.client, s.alerts_all, "gateway")
    await alerts.client.publish(s.alert("firing"), b"{}")
    await _flush(alerts)
    await asyncio.wait_for(alerted.get(), 5)


async def _chat_events_and_settings(
    s: Subjects, gateway: Login, dashboard: Login, ingest: Login
) -> None:
    js = gateway.client.jetstream()
    for kind in ("message", "edit", "member", "title"):
        await js.publish(s.chat_event(CHAT, kind), b"{}", stream=s.chat_events_stream)
    for subject in (s.user_seen, s.feedback, s.admin_audit):
        await js.publish(subject, b"{}", stream=s.activity_stream)
    await js.publish(s.dead_letter("gateway"), b"{}", stream=s.dead_letter_stream)
    await dashboard.client.jetstream().publish(
        s.chat_event(CHAT, "settings"), b"{}", stream=s.chat_events_stream
    )
    settings = await gateway.client.jetstream().key_value(s.chat_settings_bucket)
    watcher = await settings.watchall()
    written = await ingest.client.jetstream().key_value(s.chat_settings_bucket)
    await written.put(str(CHAT), b'{"store_text": false}')
    entries = [await watcher.updates(timeout=5) for _ in range(2)]  # type: ignore[no-untyped-call]
    assert any(entry is not None and entry.key == str(CHAT) for entry in entries)
    await watcher.stop()  # type: ignore[no-untyped-call]


async def _digests(s: Subjects, gateway: Login, executor: Login, alerts: Login) -> None:
    """/digest and the digest scheduler: the gateway writes a chat's entry (compare-and-set),
    alerts lists and claims it, reads the chat's zone, asks the executor for the report and
    publishes the card to the gateway."""
    written = await gateway.client.jetstream().key_value(s.digests_bucket)
    revision = await written.create(str(CHAT), b'{"chat_id": 1}')
    await written.update(str(CHAT), b'{"chat_id": 1, "schedule": "daily"}', last=revision)
    assert (await written.get(str(CHAT))).value
    scheduler = alerts.client.jetstream()
    digests = await scheduler.key_value(s.digests_bucket)
    assert await digests.keys() == [str(CHAT)]
    found = await digests.get(str(CHAT))
    await digests.update(str(CHAT), b"{}", last=found.revision)
    zones = await scheduler.key_value(s.chat_settings_bucket)
    with contextlib.suppress(KeyNotFoundError):
        await zones.get(str(CHAT))
    assert (await alerts.client.request(s.chat_report, b"{}", timeout=5)).data == b"{}"
    posted = await _received(gateway.client, s.digest_ready, "gateway")
    await alerts.client.publish(s.digest_ready, b"{}")
    await _flush(alerts)
    await asyncio.wait_for(posted.get(), 5)


async def _gateway_state(s: Subjects, gateway: Login) -> None:
    """Several gateways' shared state: a throttle entry created and updated on its revision,
    readings offered and marked picked, read back."""
    state = await gateway.client.jetstream().key_value(s.gateway_state_bucket)
    key = "throttle.private.7"
    revision = await state.create(key, b"1.0 -inf")
    await state.update(key, b"1.0 2.0", last=revision)
    await state.put("choices.0a1b", b"{}")
    found = await state.get("choices.0a1b")
    await state.update("choices.0a1b", b"", last=found.revision)
    assert (await state.get(key)).value == b"1.0 2.0"


async def _answer_cache(s: Subjects, executor: Login, ingest: Login) -> None:
    cache = await executor.client.jetstream().key_value(s.answers_bucket)
    await cache.put("answer.abc", b"{}")
    await cache.create("version.videos", b"1")
    assert (await cache.get("answer.abc")).value == b"{}"
    versions = await ingest.client.jetstream().key_value(s.answers_bucket)
    await versions.put("version.videos", b"2")
    await ingest.client.publish(s.import_progress("i1"), b"{}")
    lease = await ingest.client.jetstream().create_key_value(bucket=s.ingest_lease_bucket, ttl=5)
    revision = await lease.create("chats", b"me")
    await lease.delete("chats", last=await lease.update("chats", b"me", revision))


async def _consumers(s: Subjects, ingest: Login, alerts: Login, admin: Login) -> None:
    """Every durable of ingest and alerts created, pulled from and acknowledged (each stream
    holds what the earlier flows published, and a video batch from the operator)."""
    await admin.client.jetstream().publish(s.video_batch, b"{}", stream=s.video_stats_stream)
    js = ingest.client.jetstream()
    for stream, durable in s.ingest_consumers:
        pulled = await js.pull_subscribe(_subject_of(s, durable), durable=durable, stream=stream)
        [message] = await pulled.fetch(1, timeout=5)
        await message.nak()
        [message] = await pulled.fetch(1, timeout=5)
        await message.ack()
        await js.consumer_info(stream, durable)
    await js.publish(s.dead_letter("ingest"), b"{}", stream=s.dead_letter_stream)
    watched = await alerts.client.jetstream().pull_subscribe(
        s.answers_all, durable=ALERTS_DURABLE, stream=s.activity_stream
    )
    [answer] = await watched.fetch(1, timeout=5)
    await answer.ack()
    await alerts.client.publish(s.alert("resolved"), b"{}")


async def _operator(s: Subjects, admin: Login) -> None:
    """What `tally replay`, `tally import-videos` and `tally loadtest` do as ``admin``: read
    CHAT_EVENTS through an ephemeral consumer, write the chat settings, follow an import,
    watch questions and answers, delete a consumer."""
    js = admin.client.jetstream()
    replay = await js.pull_subscribe(s.chat_events_all, stream=s.chat_events_stream)
    assert await replay.fetch(1, timeout=5)
    await replay.unsubscribe()
    settings = await js.key_value(s.chat_settings_bucket)
    await settings.put(str(CHAT), b"{}")
    progress = await _received(admin.client, s.imports_all)
    questions = await _received(admin.client, s.question_asked)
    await admin.client.publish(s.import_progress("i2"), b"{}")
    await admin.client.publish(s.question_asked, b"{}")
    await _flush(admin)
    await asyncio.wait_for(progress.get(), 5)
    await asyncio.wait_for(questions.get(), 5)
    await js.consumer_info(s.chat_events_stream, CHATS_DURABLE)
    await js.delete_consumer(s.activity_stream, ALERTS_DURABLE)


def _subject_of(s: Subjects, durable: str) -> str:
    return {
        VIDEOS_DURABLE: s.video_batch,
        "ingest-activity": s.answers_all,
        "ingest-users": s.user_seen,
        "ingest-feedback": s.feedback,
        AUDIT_DURABLE: s.admin_audit,
        CHATS_DURABLE: s.chat_events_all,
    }[durable]


async def _monitoring(s: Subjects, executor: Login, alerts: Login, cli: Login) -> None:
    for login in (executor, alerts):
        js = login.client.jetstream()
        for stream in (s.video_stats_stream, s.activity_stream, s.chat_events_stream):
            await js.stream_info(stream)
            await js.consumers_info(stream)
    await cli.client.jetstream().stream_info(s.dead_letter_stream)
