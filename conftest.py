"""Fixtures shared by every test: real NATS and real PostgreSQL, isolated per test run.

Servers come from NATS_URL / DATABASE_URL when set (CI sets them to the local servers), else
from testcontainers when a Docker engine answers, else from the embedded wheels. Each run
gets its own database (``tally_test_<hex>``, migrated, dropped at the end) and its own
subject prefix (``t<hex>``), so runs never see each other's data.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Final
from uuid import uuid4

import nats
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from tally.cli.embedded import EmbeddedNats, EmbeddedPostgres
from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import Subjects
from tally.infra.db.session import drop_database, ensure_database, migrate
from tally.infra.settings import CommonSettings


class TestEnvironment(BaseSettings):
    """Where the test servers are, when the environment says."""

    __test__ = False
    model_config = SettingsConfigDict(extra="ignore")

    nats_url: str | None = None
    database_url: str | None = None


def _docker_answers() -> bool:
    with contextlib.suppress(Exception):
        import docker

        return bool(docker.from_env(timeout=2).ping())
    return False


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if url := TestEnvironment().nats_url:
        yield url
    elif _docker_answers():
        from testcontainers.core.container import DockerContainer

        with DockerContainer("nats:2.15").with_command("-js").with_exposed_ports(4222) as box:
            yield f"nats://{box.get_container_host_ip()}:{box.get_exposed_port(4222)}"
    else:
        server = EmbeddedNats(tmp_path_factory.mktemp("nats"))
        yield server.start()
        server.stop()


@pytest.fixture(scope="session")
def server_database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if url := TestEnvironment().database_url:
        yield url
    elif _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:18", driver=None) as box:
            yield box.get_connection_url()
    else:
        server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data", database="postgres")
        yield server.start()
        server.stop()


@pytest.fixture(scope="session")
def database_url(server_database_url: str) -> Iterator[str]:
    """A fresh, migrated database for this test run (dropped afterwards)."""
    url = make_url(server_database_url).set(database=f"tally_test_{uuid4().hex[:12]}")
    rendered = url.render_as_string(hide_password=False)
    try:
        asyncio.run(ensure_database(rendered))
        migrate(rendered)
        yield rendered
    finally:
        asyncio.run(drop_database(rendered))


@pytest.fixture(scope="session")
def subject_prefix(nats_url: str) -> Iterator[str]:
    prefix = f"t{uuid4().hex[:10]}"
    yield prefix

    async def cleanup() -> None:
        connection = await nats.connect(nats_url)
        await delete_streams(connection.jetstream(), Subjects(prefix))
        await connection.close()

    asyncio.run(cleanup())


@pytest.fixture(scope="session")
def settings(nats_url: str, database_url: str, subject_prefix: str) -> CommonSettings:
    """Common settings pointing at this run's servers, database and prefix."""
    return CommonSettings(
        nats_url=nats_url, database_url=database_url, subject_prefix=subject_prefix
    )


@pytest.fixture(scope="session")
def subjects(subject_prefix: str) -> Subjects:
    return Subjects(subject_prefix)


@pytest.fixture(scope="session")
async def streams(settings: CommonSettings, subjects: Subjects) -> AsyncIterator[None]:
    """This run's JetStream streams, declared."""
    connection = await nats.connect(settings.nats_url)
    await ensure_streams(connection.jetstream(), subjects)
    await connection.close()
    yield


@pytest.fixture(scope="session")
def spans() -> InMemorySpanExporter:
    """Every span finished from now on, recorded by the process tracer provider."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


SERVER_FIXTURES: Final = frozenset({"nats_url", "server_database_url"})
"""Fixtures that start or reach a real server: a test using one (directly or through another
fixture) is an ``integration`` test."""
SLOW: Final = (
    # Chaos, load and browser tests: tens of seconds each.
    "tests/chaos/",
    "tests/test_loadtest.py",
    "tests/test_nats_cluster.py",
    "tests/test_monitoring.py",  # `tally up`, Prometheus and Alertmanager: a minute or two
    "services/dashboard/tests/test_web.py",
    # A group's whole journey through every service, ending in a browser: a minute or more.
    "tests/test_group_journey.py",
    # Property-based fuzzing: hundreds of generated examples per test, seconds each.
    "tests/attacks/test_fuzz_events.py::",
    "tests/attacks/test_cross_chat_sql.py::test_cte_shadowing_never_reads_another_table",
    "services/executor/tests/test_firewall_properties.py::test_accepted_sql_rechecks_to_itself",
    "services/executor/tests/test_firewall_properties.py::test_dangerous_fragments_never_get",
    # A child Python process that imports the stack: seconds each.
    "tests/attacks/test_secrets.py::test_cli_errors_hide_passwords_in_urls",
    "services/dashboard/tests/test_auth_and_service.py::test_the_process_refuses_to_start_on_a",
    "tests/test_tally_up.py::test_ask_without_a_stack_says_how_to_start_one",
    "libs/cli/tests/test_nats_servers.py::test_ask_with_no_live_server",
    # Each deployment's every process started as the deployment would: a minute and more each.
    "tests/deploy/test_deployment_runs.py::test_the_deployment_runs_and_answers",
    # Every service as a child process, LOG_JSON=true: about 40 s.
    "tests/test_log_json.py::",
)
"""Tests (node id prefixes, from the repository root) that are ``slow``: `make test` runs them,
`make test-fast` does not."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test by tier: ``slow`` when listed in :data:`SLOW`, else ``integration`` when
    it needs a real server, else ``unit``. `make test-fast` runs the unit tier."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if item.nodeid.startswith(SLOW):
            item.add_marker(pytest.mark.slow)
        elif fixtures & SERVER_FIXTURES:
            item.add_marker(pytest.mark.integration)
        else:
            item.add_marker(pytest.mark.unit)
