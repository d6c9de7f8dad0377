"""On a three-node NATS cluster (tally.testing.cluster): every stream and bucket Tally declares
with STREAM_REPLICAS=3 is kept on three servers, the ingest lease included, and a client
given the whole cluster in NATS_URL goes on publishing to the streams when one node dies."""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from tally.chatstore.write.lease import ChatLease
from tally.contracts.streams import ensure_streams, stream_configs
from tally.contracts.subjects import Subjects
from tally.infra.settings import CommonSettings
from tally.testing.cluster import NatsCluster, stream_leader
from tally.testing.waiting import until

REPLICAS = 3
SUBJECTS = Subjects("clustered")


class _Idle:
    """A subscriber the lease may start and stop (it does nothing)."""

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    running = NatsCluster(tmp_path / "cluster")
    try:
        running.start()
        yield running
    finally:
        running.stop()


async def test_streams_and_buckets_are_kept_on_three_servers(cluster: NatsCluster) -> None:
    """ensure_streams(replicas=3) and the ingest lease (STREAM_REPLICAS) make R3 streams and
    R3 key-value buckets; none stays on one server."""
    settings = CommonSettings(nats_url=cluster.url, stream_replicas=REPLICAS)
    client = await nats.connect(settings.nats_servers())
    try:
        js = client.jetstream()
        await ensure_streams(js, SUBJECTS, replicas=REPLICAS)
        lease = ChatLease(SUBJECTS.ingest_lease_bucket, ttl_s=5, replicas=REPLICAS)
        lease.subscriber = _Idle()
        await lease.start(js)
        await lease.stop()
        streams = [config.name or "" for config in stream_configs(SUBJECTS)]
        buckets = [
            SUBJECTS.answers_bucket,
            SUBJECTS.chat_settings_bucket,
            SUBJECTS.digests_bucket,
            SUBJECTS.gateway_state_bucket,
            SUBJECTS.ingest_lease_bucket,
        ]
        names = streams + [f"KV_{bucket}" for bucket in buckets]
        replicas = {name: (await js.stream_info(name)).config.num_replicas for name in names}
        assert replicas == dict.fromkeys(names, REPLICAS)
    finally:
        await client.close()


async def test_a_client_of_the_cluster_publishes_on_after_a_node_dies(
    cluster: NatsCluster,
) -> None:
    """Connected to the first node (NATS_URL lists all three), the client keeps publishing
    to an R3 stream after that node is killed: every message is stored exactly once."""
    settings = CommonSettings(nats_url=cluster.url, stream_replicas=REPLICAS)
    client = await nats.connect(
        settings.nats_servers(), dont_randomize=True, reconnect_time_wait=0.2
    )
    try:
        js = client.jetstream()
        await ensure_streams(js, SUBJECTS, replicas=REPLICAS)
        subject = SUBJECTS.chat_event(1, "message")
        stream = (await js.find_stream_name_by_subject(subject)) or ""

        async def led() -> bool:  # a new R3 stream answers publishes once it has a leader
            return bool(await stream_leader(js, stream))

        await until(led, timeout_s=30, what=f"a leader of {stream}", every_s=0.1)
        for number in range(50):
            await js.publish(subject, b"{}", headers={"Nats-Msg-Id": f"m{number}"})
        first = next(
            node
            for node in cluster.nodes
            if client.connected_url and client.connected_url.port == node.port
        )
        cluster.kill(first)
        for number in range(50, 100):
            for attempt in range(40):  # until the client has moved to a live node
                try:
                    await js.publish(
                        subject, b"{}", headers={"Nats-Msg-Id": f"m{number}"}, timeout=2
                    )
                    break
                except (nats.errors.Error, TimeoutError):
                    await asyncio.sleep(0.25 * (attempt > 0))
            else:
                pytest.fail(f"message {number} was never stored")
        assert client.connected_url is not None
        assert client.connected_url.port != first.port
        info = await js.stream_info(stream)
        assert info.state.messages == 100
    finally:
        await client.close()
