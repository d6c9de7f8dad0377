"""STREAM_REPLICAS: how many servers of a NATS cluster keep each stream and the answers bucket."""

from uuid import uuid4

import nats
import pytest
from nats.js.errors import APIError
from pydantic import ValidationError

from tally.contracts.cache import bucket_config
from tally.contracts.streams import delete_streams, stream_configs
from tally.contracts.subjects import Subjects
from tally.infra.settings import CommonSettings
from tally.runtime.broker import declare_streams


def test_streams_and_bucket_take_the_replica_count() -> None:
    """Every stream and the answers bucket ask JetStream for the given number of copies."""
    subjects = Subjects("tally")
    assert {config.num_replicas for config in stream_configs(subjects)} == {1}
    assert {config.num_replicas for config in stream_configs(subjects, replicas=3)} == {3}
    assert bucket_config(subjects, replicas=3).replicas == 3


def test_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """STREAM_REPLICAS defaults to 1, is read from the environment, and must be 1 to 5."""
    monkeypatch.delenv("STREAM_REPLICAS", raising=False)
    assert CommonSettings().stream_replicas == 1
    monkeypatch.setenv("STREAM_REPLICAS", "3")
    assert CommonSettings().stream_replicas == 3
    monkeypatch.setenv("STREAM_REPLICAS", "0")
    with pytest.raises(ValidationError):
        CommonSettings()


@pytest.mark.timeout(30)
async def test_declared_streams_reach_the_server_with_the_setting(nats_url: str) -> None:
    """On one server, STREAM_REPLICAS=1 declares single-copy streams, and 3 is refused by
    JetStream (not silently made 1): the setting reaches the stream declaration."""
    prefix = f"r{uuid4().hex[:10]}"
    subjects = Subjects(prefix)
    connection = await nats.connect(nats_url)
    js = connection.jetstream()
    try:
        with pytest.raises(APIError, match="replicas"):
            await declare_streams(
                CommonSettings(nats_url=nats_url, subject_prefix=prefix, stream_replicas=3)
            )
        await declare_streams(CommonSettings(nats_url=nats_url, subject_prefix=prefix))
        for config in stream_configs(subjects):
            info = await js.stream_info(config.name or "")
            assert info.config.num_replicas == 1
    finally:
        await delete_streams(js, subjects)
        await connection.close()
