"""``LOG_JSON=true``: every service process, run as `tally up` runs it, writes nothing but JSON
lines to stdout and stderr while it starts, answers a Telegram question, serves the dashboard
and stops; each line names the service, and a line written inside a span names its trace and
span. ``LOG_LEVEL=DEBUG`` lets every library speak (FastStream's per-message lines, aiogram,
uvicorn, asyncio). The same run checks the dashboard's spans, sent to a fake OTLP collector:
each request a server span, its SQL client spans under it, probes and scrapes untraced."""

import asyncio
import json
import os
import re
import signal
import sys
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import pytest

from tally.cli.embedded import free_port
from tally.infra.settings import CommonSettings
from tally.testing.otlp import FakeCollector, ReceivedSpan
from tally.testing.processes import stop_group
from tally.testing.telegram import DEFAULT_TOKEN, FakeTelegram

SERVICES = ("gateway", "nl2sql", "executor", "ingest", "alerts", "dashboard")
PORT_VARIABLE = {"dashboard": "DASHBOARD_PORT"}
TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
SPAN_ID = re.compile(r"^[0-9a-f]{16}$")
SERVER, CLIENT = 2, 3
"""``SPAN_KIND_SERVER`` and ``SPAN_KIND_CLIENT`` in the OTLP protobuf."""


@dataclass
class Child:
    """A service process and every line it wrote, by stream."""

    name: str
    port: int
    process: asyncio.subprocess.Process
    lines: dict[str, list[str]] = field(default_factory=lambda: {"stdout": [], "stderr": []})
    readers: list[asyncio.Task[None]] = field(default_factory=list)


async def _collect(stream: asyncio.StreamReader | None, into: list[str]) -> None:
    assert stream is not None
    while line := await stream.readline():
        into.append(line.decode("utf-8", errors="replace"))


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as reply:
            return bool(reply.status == 204)
    except OSError:
        return False


async def _wait_ready(child: Child) -> None:
    for _ in range(900):  # 180 s: a loaded machine imports slowly
        if await asyncio.to_thread(_ready, child.port):
            return
        assert child.process.returncode is None, f"{child.name} exited: {child.lines}"
        await asyncio.sleep(0.2)
    raise TimeoutError(f"{child.name} was not ready")


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as reply:
        return int(reply.status)


def _openmetrics(port: int) -> str:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/metrics", headers={"Accept": "application/openmetrics-text"}
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert reply.headers["Content-Type"].startswith("application/openmetrics-text")
        return str(reply.read().decode())


@dataclass
class Finished:
    """The stopped services (with their output) and every span they exported."""

    children: list[Child]
    spans: list[ReceivedSpan]
    metrics: dict[str, str]
    """Each service's /metrics as OpenMetrics (asked for with ``Accept``), after the question."""


@pytest.fixture(scope="module")
async def run(settings: CommonSettings) -> AsyncIterator[Finished]:
    """Every service started with LOG_JSON=true, asked one question through the fake Bot API,
    the dashboard's page and API read, then stopped with SIGTERM (which flushes their spans)."""
    async with FakeTelegram() as telegram, FakeCollector() as collector:
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LOG_"))},
            "NATS_URL": settings.nats_url,
            "DATABASE_URL": settings.database_url,
            "SUBJECT_PREFIX": f"j{uuid4().hex[:8]}",
            "BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_API_BASE": telegram.base_url,
            "LOG_JSON": "true",
            "LOG_LEVEL": "DEBUG",
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        }
        children: list[Child] = []
        metrics: dict[str, str] = {}
        try:
            for name in SERVICES:
                port = free_port()
                process = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    f"tally.{name}",
                    env={**environment, PORT_VARIABLE.get(name, "METRICS_PORT"): str(port)},
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                    start_new_session=True,
                )
                child = Child(name, port, process)
                child.readers = [
                    asyncio.create_task(_collect(process.stdout, child.lines["stdout"])),
                    asyncio.create_task(_collect(process.stderr, child.lines["stderr"])),
                ]
                children.append(child)
            for child in children:
                await _wait_ready(child)
            telegram.push_message(chat_id=802, user_id=802, text="How many videos are there?")
            await telegram.wait_sent(chat_id=802, timeout=60)
            dashboard = f"http://127.0.0.1:{children[-1].port}"
            assert await asyncio.to_thread(_get, f"{dashboard}/") == 200
            assert await asyncio.to_thread(_get, f"{dashboard}/api/chats") == 200
            for child in children:
                metrics[child.name] = await asyncio.to_thread(_openmetrics, child.port)
        finally:
            for child in children:
                await stop_group(child.process, timeout_s=30, signum=signal.SIGTERM)
            for child in children:
                await asyncio.gather(*child.readers)
        yield Finished(children, list(collector.spans), metrics)


@pytest.fixture(scope="module")
def finished(run: Finished) -> list[Child]:
    return run.children


def _records(child: Child) -> list[dict[str, Any]]:
    records = []
    for stream, lines in child.lines.items():
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                pytest.fail(f"{child.name} wrote a line that is not JSON to {stream}: {line!r}")
            assert isinstance(record, dict), f"{child.name}: {line!r}"
            records.append(record)
    return records


@pytest.mark.parametrize("service", SERVICES)
def test_only_json_lines(finished: list[Child], service: str) -> None:
    """Every line the service wrote, on either stream, is a JSON object with its event,
    level, timestamp and the service's name; trace and span ids come together, well formed."""
    [child] = [child for child in finished if child.name == service]
    records = _records(child)
    assert records, f"{service} wrote nothing"
    for record in records:
        assert record["service"] == service
        assert {"event", "level", "timestamp", "logger"} <= record.keys(), record
        if "trace_id" in record or "span_id" in record:
            assert TRACE_ID.match(record["trace_id"]) and SPAN_ID.match(record["span_id"])


def test_lines_inside_spans_carry_the_trace(finished: list[Child]) -> None:
    """The question's hops log inside their spans: FastStream's lines about each message in
    nl2sql and the executor carry trace and span ids, and the gateway's question and the
    executor's answer share one trace."""
    traced = {
        child.name: {r["trace_id"] for r in _records(child) if "trace_id" in r}
        for child in finished
    }
    assert traced["nl2sql"] and traced["executor"]
    assert traced["gateway"] & traced["nl2sql"] & traced["executor"]


def test_dashboard_requests_and_sql_are_traced(run: Finished) -> None:
    """``GET /api/chats`` is a server span of tally-dashboard with its SQL as client spans in
    the same trace, below it; the access log line of that request names that trace; the
    readiness probes made no span."""
    spans = [span for span in run.spans if span.service == "tally-dashboard"]
    [request] = [s for s in spans if s.kind == SERVER and s.name == "GET /api/chats"]
    by_id = {span.span_id: span for span in spans}

    def under_request(span: ReceivedSpan) -> bool:
        while span.parent_span_id in by_id:
            span = by_id[span.parent_span_id]
            if span is request:
                return True
        return False

    sql = [s for s in spans if s.kind == CLIENT and s.attributes.get("db.system") == "postgresql"]
    assert any(s.trace_id == request.trace_id and under_request(s) for s in sql)
    assert not [s for s in spans if "/health" in s.name or "/metrics" in s.name]
    [dashboard] = [child for child in run.children if child.name == "dashboard"]
    logged = [r for r in _records(dashboard) if "GET /api/chats" in r["event"]]
    assert logged and all(r.get("trace_id") == request.trace_id for r in logged)


def test_answer_latency_exemplar_is_the_question_trace(run: Finished) -> None:
    """The executor's answer latency, read as OpenMetrics, carries as exemplar the trace id
    the gateway's lines about that question carry: Grafana's dot opens that trace."""
    exemplars = set(
        re.findall(
            r'tally_answer_latency_seconds_bucket\{.*# \{trace_id="(\w+)"\}',
            run.metrics["executor"],
        )
    )
    [gateway] = [child for child in run.children if child.name == "gateway"]
    assert exemplars and exemplars <= {r["trace_id"] for r in _records(gateway) if "trace_id" in r}
