"""The embedded servers say at once when a port they need is taken."""

import socket
import time
from pathlib import Path

import pytest

from tally.cli.embedded import EmbeddedNats
from tally.infra.errors import ConfigurationError


def test_a_taken_port_is_named_at_once(tmp_path: Path) -> None:
    """nats-server on a port another program listens on: a ConfigurationError naming the port,
    within seconds, not a wait for its own server that never comes (or a foreign one)."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        server = EmbeddedNats(tmp_path, port=port)
        started = time.monotonic()
        with pytest.raises(ConfigurationError, match=f"{port}.*taken by another program"):
            server.start()
        assert time.monotonic() - started < 10
        server.stop()
