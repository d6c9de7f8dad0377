"""Secrets never leak: the whole stack runs as child processes with distinctive secrets
(the bot token, the LLM API key, the database passwords, the dashboard's admin token, a NATS
password in ``NATS_URL`` in one run and in ``NATS_PASSWORD`` in the other, which a NATS
server without authentication ignores), its error paths are exercised, and everything it
emits is searched for each secret.

Searched: every process's stdout and stderr (``LOG_LEVEL=DEBUG``; plain lines in one run,
JSON in the other), every span exported to an in-test OTLP collector, every ``/metrics``,
``/health``, ``/health/ready`` and ``/asyncapi.json`` page, every message the fake Bot API
received, the dashboard's error answers and the ``DEAD_LETTERS`` stream. Each secret is
searched as is, URL-encoded (both ways) and, for the bot token, its secret part alone (the
numeric part is the bot's public user id, which Telegram shows on every message the bot
sends; it is searched only joined to a colon).

Error paths: a question while the LLM answers 500 (one run) or 401 (the other), a dashboard
request with a wrong token and answers 404 and 422, the gateway's reply meeting a 502 from
the Bot API, and ingest given an event that is not JSON.
"""

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus
from uuid import uuid4

import asyncpg
import nats
import pytest
from nats.js import JetStreamContext
from sqlalchemy.engine import URL, make_url

from tally.cli.client import Asker, NoAnswerError
from tally.cli.embedded import free_port
from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import Subjects
from tally.infra.db.session import asyncpg_dsn, ensure_database, migrate
from tally.infra.settings import CommonSettings
from tally.testing.llm import FakeLlm, Reply, refusal_reply
from tally.testing.otlp import FakeCollector
from tally.testing.telegram import FakeTelegram

pytestmark = pytest.mark.timeout(420)
SERVICES = ("nl2sql", "executor", "ingest", "gateway", "dashboard", "alerts")
LLM_QUESTION = "zqx purple elephants dancing wildly"
"""A question the built-in parser refuses, so it goes to the LLM."""
USER = 4242
FLAKY_USER = 4343


@dataclass
class Secrets:
    """Distinctive secret values for one run (fresh each time, so nothing matches by chance)."""

    bot_id: str = field(default_factory=lambda: str(7_000_000_000 + secrets.randbelow(10**9)))
    bot_secret: str = field(default_factory=lambda: "AAH" + secrets.token_urlsafe(24))
    llm_api_key: str = field(default_factory=lambda: "sk-leak-" + secrets.token_hex(16))
    db_password: str = field(default_factory=lambda: f"pw{secrets.token_hex(8)}/+=!")
    admin_token: str = field(default_factory=lambda: "adm" + secrets.token_hex(16))
    nats_password: str = field(default_factory=lambda: "nats" + secrets.token_hex(8))
    nats_user_password: str = field(default_factory=lambda: "natsuser" + secrets.token_hex(8))

    @property
    def bot_token(self) -> str:
        return f"{self.bot_id}:{self.bot_secret}"

    def forms(self) -> dict[str, set[str]]:
        """Each secret's name -> the strings whose presence is a leak."""
        values = {
            "BOT_TOKEN": self.bot_token,
            "bot token secret part": self.bot_secret,
            "LLM_API_KEY": self.llm_api_key,
            "database password": self.db_password,
            "ADMIN_API_TOKEN": self.admin_token,
            "NATS password": self.nats_password,
            "NATS_PASSWORD": self.nats_user_password,
        }
        found = {name: {v, quote(v, safe=""), quote_plus(v)} for name, v in values.items()}
        found["bot id joined to a colon"] = {f"{self.bot_id}:", f"{self.bot_id}%3A"}
        return found


@dataclass
class Run:
    """What one run of the stack emitted, by where it was seen."""

    texts: dict[str, str] = field(default_factory=dict)

    def leaks(self, forms: dict[str, set[str]]) -> list[str]:
        found = []
        for source, content in self.texts.items():
            for name, values in forms.items():
                for value in values:
                    if (at := content.find(value)) >= 0:
                        excerpt = content[max(0, at - 120) : at + len(value) + 40]
                        found.append(f"{name} in {source}: …{excerpt!r}…")
                        break
        return found


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, f"{dict(response.headers)}\n{response.read().decode()}"
    except urllib.error.HTTPError as error:
        return error.code, f"{dict(error.headers)}\n{error.read().decode()}"
    except OSError as error:
        return 0, repr(error)


async def _wait_ready(process: asyncio.subprocess.Process, port: int, name: str) -> None:
    for _ in range(900):  # 180 s: a loaded machine imports slowly
        status, _ = await asyncio.to_thread(_get, f"http://127.0.0.1:{port}/health/ready")
        if status in (200, 204):
            return
        assert process.returncode is None, f"{name} exited with {process.returncode}"
        await asyncio.sleep(0.2)
    raise TimeoutError(f"{name} on port {port} was not ready")


@pytest.fixture
async def database(settings: CommonSettings) -> AsyncIterator[tuple[URL, str]]:
    """A migrated database of its own and a login role with a password (dropped after)."""
    url = make_url(settings.database_url).set(database=f"tally_secrets_{uuid4().hex[:8]}")
    await ensure_database(url.render_as_string(hide_password=False))
    await asyncio.to_thread(migrate, url.render_as_string(hide_password=False))
    role = f"leak_{uuid4().hex[:8]}"
    admin = await asyncpg.connect(**asyncpg_dsn(url.set(database="postgres")))
    yield url, role
    await admin.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
    await admin.close()


async def _create_role(url: URL, role: str, password: str) -> None:
    admin = await asyncpg.connect(**asyncpg_dsn(url))
    escaped = password.replace("'", "''")
    await admin.execute(f"CREATE ROLE \"{role}\" LOGIN SUPERUSER PASSWORD '{escaped}'")
    await admin.close()


def _llm_reply(body: dict[str, Any]) -> Reply:
    """The fake LLM's answer: 500 for every question asked while it 'fails'."""
    text = str(body.get("messages", ""))
    if "fail me" in text:
        return Reply.error(500)
    return Reply.json(refusal_reply("not about videos"))


async def _dead_letters(js: JetStreamContext, subjects: Subjects) -> str:
    """Every message of the DEAD_LETTERS stream, headers and payload, as text."""
    found = []
    info = await js.stream_info(subjects.dead_letter_stream)
    if not info.state.messages:
        return ""
    for sequence in range(info.state.first_seq, info.state.last_seq + 1):
        message = await js.get_msg(subjects.dead_letter_stream, sequence)
        found.append(f"{message.subject} {message.headers} {message.data!r}")
    return "\n".join(found)


async def _exercise(
    tg: FakeTelegram, environment: dict[str, str], dashboard_port: int, run: Run
) -> None:
    """Every path that might carry a secret: questions (one to a failing LLM), a reply
    meeting a 502, dashboard errors, a bad chat event."""
    tg.push_message(chat_id=USER, user_id=USER, text="How many videos are in the system?")
    tg.push_message(chat_id=USER + 1, user_id=USER + 1, text=f"{LLM_QUESTION} fail me")
    tg.flaky(FLAKY_USER, 1)
    tg.push_message(chat_id=FLAKY_USER, user_id=FLAKY_USER, text="How many videos?")
    await tg.wait_sent(count=3, timeout=60)

    settings = CommonSettings(
        nats_url=environment["NATS_URL"], subject_prefix=environment["SUBJECT_PREFIX"]
    )
    async with Asker(settings, timeout_s=30) as asker:
        for text in ("How many creators are there?", LLM_QUESTION, f"{LLM_QUESTION} fail me"):
            try:
                run.texts[f"answer to {text!r}"] = repr(await asker.ask(text))
            except NoAnswerError as error:
                run.texts[f"answer to {text!r}"] = repr(error)

    base = f"http://127.0.0.1:{dashboard_port}"
    right = {"X-Admin-Token": environment["ADMIN_API_TOKEN"]}
    for name, path, headers, expected in (
        ("wrong token", "/api/chats", {"X-Admin-Token": "wrong" * 8}, 401),
        ("no token", "/api/chats", {}, 401),
        ("unknown chat", "/api/chats/999/settings", right, 404),
        ("bad id", "/api/chats/abc/settings", right, 422),
        ("bad id, bad size", "/api/chats/x1/users?size=100000", right, 422),
    ):
        status, body = await asyncio.to_thread(_get, base + path, headers)
        assert status == expected, (name, status, body)
        run.texts[f"dashboard {name}"] = body

    client = await nats.connect(environment["NATS_URL"])
    js = client.jetstream()
    subjects = Subjects(environment["SUBJECT_PREFIX"])
    await js.publish(
        subjects.chat_event(-100, "message"), b"{not json", headers={"Nats-Msg-Id": uuid4().hex}
    )
    for _ in range(150):
        run.texts["DEAD_LETTERS"] = await _dead_letters(js, subjects)
        if "not json" in run.texts["DEAD_LETTERS"]:
            break
        await asyncio.sleep(0.2)
    assert "not json" in run.texts["DEAD_LETTERS"], "ingest did not dead-letter the bad event"
    await client.close()


@pytest.mark.parametrize("log_json", ["false", "true"])
async def test_no_secret_reaches_logs_spans_metrics_replies_or_dead_letters(
    settings: CommonSettings, database: tuple[URL, str], tmp_path: Path, log_json: str
) -> None:
    """With LOG_JSON=false the LLM answers (and fails with 500 when told); with LOG_JSON=true
    it refuses the key (401). In neither run does any secret, in any form, appear anywhere
    the stack writes to."""
    url, role = database
    kept = Secrets()
    await _create_role(url, role, kept.db_password)
    owner = url.set(username=role, password=kept.db_password)
    prefix = f"leak{uuid4().hex[:8]}"
    subjects = Subjects(prefix)
    run = Run()
    llm_key = kept.llm_api_key if log_json == "false" else "sk-some-other-key-0123456789"
    async with (
        FakeTelegram(kept.bot_token) as tg,
        FakeLlm(llm_key, respond=_llm_reply) as llm,
        FakeCollector() as collector,
    ):
        nats_url = make_url(settings.nats_url).set(username="tally", password=kept.nats_password)
        # One run logs in with a password in NATS_URL, the other with NATS_USER/NATS_PASSWORD.
        nats_login = (
            {"NATS_URL": nats_url.render_as_string(hide_password=False)}
            if log_json == "false"
            else {
                "NATS_URL": settings.nats_url,
                "NATS_USER": "tally",
                "NATS_PASSWORD": kept.nats_user_password,
            }
        )
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
            **nats_login,
            "DATABASE_URL": owner.render_as_string(hide_password=False),
            "EXECUTOR_DATABASE_URL": owner.set(username="tally_reader").render_as_string(
                hide_password=False
            ),
            "OPS_DATABASE_URL": owner.set(username="tally_ops").render_as_string(
                hide_password=False
            ),
            "DASHBOARD_DATABASE_URL": owner.set(username="tally_reader").render_as_string(
                hide_password=False
            ),
            "SUBJECT_PREFIX": prefix,
            "BOT_TOKEN": kept.bot_token,
            "TELEGRAM_API_BASE": tg.base_url,
            "LLM_BASE_URL": llm.base_url,
            "LLM_API_KEY": kept.llm_api_key,
            "LLM_MODEL": "fake-model",
            "LLM_RETRIES": "1",
            "LLM_TIMEOUT_S": "3",
            "ADMIN_API_TOKEN": kept.admin_token,
            "LOG_LEVEL": "DEBUG",
            "LOG_JSON": log_json,
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
            "RETRY_DELAY_S": "0.5",
        }
        client = await nats.connect(settings.nats_url)
        await ensure_streams(client.jetstream(), subjects)
        children: dict[str, tuple[asyncio.subprocess.Process, int]] = {}
        try:
            for name in SERVICES:
                port = free_port()
                port_variable = "DASHBOARD_PORT" if name == "dashboard" else "METRICS_PORT"
                out = (tmp_path / f"{name}.log").open("wb")
                children[name] = (
                    await asyncio.create_subprocess_exec(
                        sys.executable,
                        "-m",
                        f"tally.{name}",
                        env={**environment, port_variable: str(port)},
                        stdout=out,
                        stderr=asyncio.subprocess.STDOUT,
                    ),
                    port,
                )
                out.close()
            for name, (child, port) in children.items():
                await _wait_ready(child, port, name)
            await _exercise(tg, environment, children["dashboard"][1], run)
            for name, (_, port) in children.items():
                for page in ("/metrics", "/health", "/health/ready", "/asyncapi.json"):
                    _, body = await asyncio.to_thread(_get, f"http://127.0.0.1:{port}{page}")
                    run.texts[f"{name} {page}"] = body
            await asyncio.sleep(1)  # the last spans' export (every 100 ms)
        finally:
            for child, _ in children.values():
                if child.returncode is None:
                    child.send_signal(signal.SIGTERM)
            for child, _ in children.values():
                try:
                    await asyncio.wait_for(child.wait(), 30)
                except TimeoutError:
                    child.kill()
            await delete_streams(client.jetstream(), subjects)
            await client.close()
        run.texts["Bot API calls"] = repr(tg.sent) + repr(tg.calls)
        run.texts["spans"] = repr(collector.spans)
        run.texts["LLM requests"] = repr([r.body for r in llm.requests])
    for name in SERVICES:
        run.texts[f"{name} output"] = (tmp_path / f"{name}.log").read_text(errors="replace")

    assert collector.spans, "no span was exported: the search would prove nothing"
    assert "llm unavailable" in run.texts["nl2sql output"], "no LLM error was logged"
    assert any(m.chat_id == FLAKY_USER for m in tg.sent), "the reply after a 502 never came"
    leaks = run.leaks(kept.forms())
    assert not leaks, "\n".join(leaks)


@pytest.mark.parametrize("command", [["ask", "How many videos?"], ["health"]])
def test_cli_errors_hide_passwords_in_urls(command: list[str], tmp_path: Path) -> None:
    """`tally ask` and `tally health` against a NATS and a PostgreSQL that do not answer, at
    URLs carrying passwords: their output names the servers, never the passwords."""
    kept = Secrets()
    closed = free_port()  # nothing listens there
    environment = {
        **os.environ,
        "NATS_URL": f"nats://tally:{quote(kept.nats_password, safe='')}@127.0.0.1:{closed}",
        "DATABASE_URL": f"postgresql://tally:{quote(kept.db_password, safe='')}"
        f"@127.0.0.1:{closed}/tally",
        "TALLY_HOME": str(tmp_path),
        "LOG_LEVEL": "DEBUG",
    }
    done = subprocess.run(
        [sys.executable, "-m", "tally.cli.main", *command],
        env=environment,
        capture_output=True,
        timeout=60,
        check=False,
    )
    output = (done.stdout + done.stderr).decode(errors="replace")
    assert done.returncode != 0 and str(closed) in output, output
    forms = kept.forms()
    leaks = Run({"output": output}).leaks(
        {name: forms[name] for name in ("NATS password", "database password")}
    )
    assert not leaks, "\n".join(leaks)
