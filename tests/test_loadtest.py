"""`tally loadtest` on a small scale: the whole stack as processes, the gateway polling the
loadtest's fake Bot API, users asking and groups chatting for 10 s."""

import asyncio
import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from tally.infra.settings import CommonSettings
from tally.testing.processes import stop_group

pytestmark = pytest.mark.timeout(240)


async def _loadtest(
    settings: CommonSettings, tmp_path: Path, *options: str
) -> tuple[str, dict[str, Any]]:
    """Run ``tally loadtest`` with 50 users at 10 questions/s and 2 groups for 10 s (and
    ``options``); (its output, the one phase of its JSON report)."""
    report = tmp_path / "report.json"
    environment = {
        **os.environ,
        "NATS_URL": settings.nats_url,
        "DATABASE_URL": settings.database_url,
        "TALLY_HOME": str(tmp_path),
    }
    arguments = ["--users", "50", "--groups", "2", "--duration", "10", "--rate", "10"]
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "tally.cli.main", "loadtest", *arguments),
        *("--drain", "20", "--report", str(report), *options),
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output, _ = await asyncio.wait_for(process.communicate(), 220)
    finally:
        await stop_group(process, signum=signal.SIGTERM)
    text = output.decode()
    assert process.returncode == 0, text
    [phase] = json.loads(report.read_text())["phases"]
    return text, phase


async def test_loadtest_answers_every_question_and_reports(
    settings: CommonSettings, tmp_path: Path
) -> None:
    """50 users at 10 questions/s and 2 groups for 10 s: every question answered, no error,
    the report's figures consistent with each other and every service's CPU counted."""
    text, phase = await _loadtest(settings, tmp_path)
    assert "update handed to the gateway" in text and "binds:" in text
    assert phase["unanswered"] == 0 and phase["errors"] == 0
    assert 90 <= phase["asked"] == phase["answered"] <= 110
    assert (
        0 < phase["latency_ms"]["p50"] <= phase["latency_ms"]["p95"] <= phase["latency_ms"]["max"]
    )
    assert set(phase["stages_ms"]) == {"gateway in", "nl2sql + executor", "gateway out"}
    assert phase["group_messages"] >= 30 and phase["ingest_lag_end"] == 0
    assert phase["group_messages_stored"] == phase["group_messages"]
    processes = {use["process"] for use in phase["cpu"]}
    assert {"gateway#1", "nl2sql#1", "executor#1", "ingest#1"} <= processes
    assert phase["throttle_s"] == 0.5


async def test_two_webhook_gateways_answer_every_question_once(
    settings: CommonSettings, tmp_path: Path
) -> None:
    """The same load through 2 gateways in webhook mode behind the loadtest's round-robin
    balancer, with 2 executor replicas and a re-ask after 0.1 s (most questions asked again,
    many answered twice): every question answered once, none lost, no reply without a
    question, both gateways busy."""
    options = ("--gateways", "2", "--replicas", "2", "--reask-after", "0.1")
    _, phase = await _loadtest(settings, tmp_path, *options)
    assert phase["gateways"] == 2 and phase["webhook_errors"] == 0
    assert phase["unanswered"] == 0 and phase["errors"] == 0
    assert 90 <= phase["asked"] == phase["answered"] <= 110
    assert {"gateway#1", "gateway#2"} <= {use["process"] for use in phase["cpu"]}
