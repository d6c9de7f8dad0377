"""NATS_URL may list the servers of a cluster; a command that cannot reach any says so in one
sentence, without the NATS client's tracebacks."""

import os
import socket
import subprocess
import sys
from urllib.parse import urlsplit

import nats
import pytest

from tally.infra.settings import CommonSettings, nats_servers


def _closed_port() -> int:
    """A local TCP port nobody listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_list_of_servers_is_split_in_order() -> None:
    assert nats_servers("nats://a:4222, nats://b:4222,,nats://c:4222") == [
        "nats://a:4222",
        "nats://b:4222",
        "nats://c:4222",
    ]
    assert nats_servers("nats://a:4222") == ["nats://a:4222"]


def test_a_list_naming_no_server_is_refused() -> None:
    with pytest.raises(ValueError, match="no server"):
        nats_servers(" , ")


async def test_a_client_reaches_the_live_server_when_the_first_is_down(nats_url: str) -> None:
    """A dead node first in NATS_URL: the client connects to the next one."""
    settings = CommonSettings(nats_url=f"nats://127.0.0.1:{_closed_port()},{nats_url}")
    client = await nats.connect(settings.nats_servers(), connect_timeout=2)
    try:
        assert client.is_connected
        assert client.connected_url is not None
        assert client.connected_url.port == urlsplit(nats_url).port
    finally:
        await client.close()


def test_ask_with_no_live_server_prints_one_sentence_and_no_traceback() -> None:
    """`tally ask` against a NATS_URL whose only server is down: the sentence, exit 1, and
    none of nats-py's "Traceback" lines (its default error callback logs them at ERROR)."""
    environment = {**os.environ, "NATS_URL": f"nats://127.0.0.1:{_closed_port()}"}
    done = subprocess.run(
        [sys.executable, "-m", "tally.cli.main", "ask", "how many videos are there?"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "Cannot reach NATS" in output
    assert "Traceback" not in output, output
