"""`tally loadtest` on a three-node NATS cluster (STREAM_REPLICAS=3), one node killed while
users ask and groups chat: the whole stack (gateway included) goes on, every question the
fake Bot API was handed is answered, and every group message is stored once."""

import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path

import nats
import nats.errors
import pytest
from nats.js.errors import APIError

from tally.infra.settings import CommonSettings
from tally.testing.cluster import NatsCluster
from tally.testing.processes import stop_group
from tests.chaos._stack import until

pytestmark = pytest.mark.timeout(480)
STARTUP_S = 240
"""Most seconds from the start to the groups' first chat event: the loadtest migrates a new
database, declares R3 streams, imports the sample and starts every service twice first (about
40 s on a quiet machine; well over 2 min was seen with the machine's load average at 7)."""

REPLICAS = int(os.environ.get("STREAM_REPLICAS", "3"))
"""3 here; STREAM_REPLICAS=1 in pytest's environment shows the test failing."""


async def _loaded_chat_stream(url: str) -> tuple[int, str] | None:
    """(replicas, leader) of the loadtest's chat events stream once groups have posted to it."""
    client = await nats.connect(url.split(","))
    try:
        with contextlib.suppress(nats.errors.Error, APIError, TimeoutError):
            for info in await client.jetstream().streams_info():
                name = info.config.name or ""
                if name.endswith("_CHAT_EVENTS") and info.state.messages > 0 and info.cluster:
                    return info.config.num_replicas, info.cluster.leader or ""
    finally:
        await client.close()
    return None


async def test_loadtest_on_a_cluster_with_a_node_killed(
    settings: CommonSettings, tmp_path: Path
) -> None:
    """50 users at 8 questions/s and 2 groups at 4 messages/s each for 15 s on three nodes; the
    chat events stream's leader killed once the groups chat (some 4 s in, leaving 10 s of load
    past the leader election, which takes a few seconds): no question unanswered, no error, every
    group message stored once, ingest's lag back to 0."""
    cluster = NatsCluster(tmp_path / "cluster")
    url = await asyncio.to_thread(cluster.start)
    report = tmp_path / "report.json"
    environment = {
        **os.environ,
        "NATS_URL": url,
        "STREAM_REPLICAS": str(REPLICAS),
        "DATABASE_URL": settings.database_url,
        "TALLY_HOME": str(tmp_path / "home"),
    }
    arguments = ["--users", "50", "--groups", "2", "--duration", "15", "--rate", "8"]
    arguments += ["--group-rate", "4"]
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "tally.cli.main", "loadtest", *arguments),
        *("--drain", "30", "--report", str(report)),
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        output = asyncio.create_task(process.communicate())
        found: list[tuple[int, str]] = []

        async def chatting() -> bool:
            assert not output.done(), (await output)[0].decode()
            stream = await _loaded_chat_stream(url)
            found.extend([stream] if stream else [])
            return bool(found)

        what = "the groups' first chat events"
        await until(chatting, timeout_s=STARTUP_S, what=what, every_s=0.5)
        assert found[0][0] == REPLICAS
        await asyncio.sleep(3)
        victim = next(node for node in cluster.nodes if node.name == found[0][1])
        killed_at = time.monotonic()
        await asyncio.to_thread(cluster.kill, victim)
        text = (await asyncio.wait_for(output, 180))[0].decode()
    finally:
        await stop_group(process, signum=signal.SIGTERM)
        await asyncio.to_thread(cluster.stop)
    assert process.returncode == 0, text
    [phase] = json.loads(report.read_text())["phases"]
    summary = f"node {victim.name} killed at {killed_at:.0f}; {phase}"
    assert phase["unanswered"] == 0 and phase["errors"] == 0, summary
    assert 100 <= phase["asked"] == phase["answered"], summary
    assert phase["group_messages"] >= 50 and phase["ingest_lag_end"] == 0, summary
    assert phase["group_messages_stored"] == phase["group_messages"], summary
    print(  # the figures docs/scaling.md quotes (pytest -s)
        f"{phase['asked']} asked, {phase['answered']} answered, p95 "
        f"{phase['latency_ms']['p95']} ms, max {phase['latency_ms']['max']} ms, "
        f"{phase['group_messages']} group messages, {phase['group_messages_stored']} stored, "
        f"ingest lag max {phase['ingest_lag_max']}"
    )
