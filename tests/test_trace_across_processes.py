"""One question is one trace across processes: the CLI, nl2sql and the executor each run as
their own process (``python -m tally.<service>``, as `tally up` starts them) and export their
spans over OTLP/HTTP to a collector in the test (``tally.testing.otlp``)."""

import asyncio
import json
import os
import signal
import sys
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import uuid4

import pytest

from tally.cli.embedded import free_port
from tally.infra.settings import CommonSettings
from tally.testing.otlp import FakeCollector, ReceivedSpan

SERVICES = ("nl2sql", "executor")
TALLY = [sys.executable, "-m", "tally.cli.main"]
CLIENT_KIND = 3
"""``Span.SpanKind.SPAN_KIND_CLIENT`` in the OTLP protobuf."""


@dataclass
class Running:
    """The service processes' environment (for `tally ask`), prefix and collector."""

    environment: dict[str, str]
    prefix: str
    collector: FakeCollector


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=2) as r:
            return bool(r.status == 204)
    except OSError:
        return False


async def _wait_ready(process: asyncio.subprocess.Process, port: int) -> None:
    for _ in range(900):  # 180 s: a loaded machine imports slowly
        if await asyncio.to_thread(_ready, port):
            return
        assert process.returncode is None, f"service exited with {process.returncode}"
        await asyncio.sleep(0.2)
    raise TimeoutError(f"the service on port {port} was not ready")


@pytest.fixture(scope="module")
async def running(settings: CommonSettings) -> AsyncIterator[Running]:
    """nl2sql and the executor as child processes, exporting spans to the collector every
    100 ms (the standard OTEL_BSP_SCHEDULE_DELAY)."""
    prefix = f"x{uuid4().hex[:8]}"
    async with FakeCollector() as collector:
        environment = {
            **{k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
            "NATS_URL": settings.nats_url,
            "DATABASE_URL": settings.database_url,
            "SUBJECT_PREFIX": prefix,
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",
        }
        children = []
        try:
            for name in SERVICES:
                port = free_port()
                child = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    f"tally.{name}",
                    env={**environment, "METRICS_PORT": str(port)},
                )
                children.append((child, port))
            for child, port in children:
                await _wait_ready(child, port)
            yield Running(environment, prefix, collector)
        finally:
            for child, _ in children:
                child.send_signal(signal.SIGTERM)
            for child, _ in children:
                await asyncio.wait_for(child.wait(), 30)


def _chain(spans: list[ReceivedSpan], leaf: ReceivedSpan) -> list[ReceivedSpan]:
    """``leaf`` and its ancestors, root last."""
    by_id = {span.span_id: span for span in spans}
    chain = [leaf]
    while chain[-1].parent_span_id:
        chain.append(by_id[chain[-1].parent_span_id])
    return chain


async def test_one_question_is_one_trace_across_processes(running: Running) -> None:
    """`tally ask` -> nl2sql -> executor (its SQL) -> the answer back to the CLI: one trace,
    every parent in it, one root, each span named for the process that made it; the SQL
    span carries the statement without the question's number.

    FastStream's shape: a publisher makes a ``create`` span whose context goes in the
    headers, and a ``publish`` span under it; the consumer's ``process`` span is a child of
    the ``create`` span."""
    threshold = 98_765 + int(uuid4().int % 1000)  # a plan no cache holds
    asked = await asyncio.create_subprocess_exec(
        *TALLY,
        "ask",
        "--json",
        f"How many videos got more than {threshold:,} views?",
        env=running.environment,
        stdout=asyncio.subprocess.PIPE,
    )
    stdout, _ = await asyncio.wait_for(asked.communicate(), 60)
    reply = json.loads(stdout)
    trace_id = reply["trace_id"]

    def complete(spans: list[ReceivedSpan]) -> bool:
        names = {s.name for s in spans if s.trace_id == trace_id}
        return {"cli ask", "cli answer"} <= names and any(".answers.cli." in n for n in names)

    received = await running.collector.wait_for(complete, timeout_s=30)
    spans = [s for s in received if s.trace_id == trace_id]
    ids = {s.span_id for s in spans}
    assert [s.name for s in spans if not s.parent_span_id] == ["cli ask"]
    assert all(s.parent_span_id in ids for s in spans if s.parent_span_id)

    [answer] = [s for s in spans if s.name == "cli answer"]
    hops = [(s.service, s.name) for s in reversed(_chain(spans, answer))]
    p = running.prefix
    expected = [
        ("tally-cli", "cli ask"),
        ("tally-nl2sql", f"{p}.questions.asked process"),
        ("tally-nl2sql", f"{p}.plans.ready create"),
        ("tally-executor", f"{p}.plans.ready process"),
        ("tally-executor", f"{p}.answers.cli.* create"),
        ("tally-cli", "cli answer"),
    ]
    assert hops == expected
    for creator, destination in (
        ("tally-nl2sql", "plans.ready"),
        ("tally-executor", "answers.cli.*"),
    ):
        [create] = [s for s in spans if s.name == f"{p}.{destination} create"]
        [publish] = [s for s in spans if s.name == f"{p}.{destination} publish"]
        assert publish.service == create.service == creator
        assert publish.parent_span_id == create.span_id

    [execute] = [s for s in spans if s.name == f"{p}.plans.ready process"]
    sql = [s for s in spans if s.kind == CLIENT_KIND and s.service == "tally-executor"]
    assert sql and all(execute in _chain(spans, s) for s in sql)
    statements = [
        str(s.attributes.get("db.statement", s.attributes.get("db.query.text"))) for s in sql
    ]
    assert any("video" in text for text in statements), statements
    assert not any(str(threshold) in text for text in statements), statements
    assert {s.service for s in spans} >= {"tally-cli", "tally-nl2sql", "tally-executor"}
