"""Health probes of Tally's components, shared by ``tally health`` and the admins' /health.

A probe is an awaitable that returns a detail line when its component is up and raises when
it is not; :func:`timed` runs one within a time limit and turns it into a :class:`Check`.
"""

import asyncio
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import asyncpg
import nats
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from tally.contracts.streams import stream_configs
from tally.contracts.subjects import Subjects
from tally.infra.db.session import asyncpg_dsn
from tally.infra.settings import nats_servers, redact

TIMEOUT_S = 3.0
"""How long one probe may take before its component counts as down (seconds)."""
Status = Literal["up", "down"]


@dataclass(frozen=True, slots=True)
class Check:
    """One component's state: ``up`` or ``down``, a detail line, and how long the check took
    (ms)."""

    component: str
    status: Status
    detail: str
    elapsed_ms: float


async def timed(component: str, probe: Awaitable[str], *, timeout_s: float = TIMEOUT_S) -> Check:
    """``probe`` run for at most ``timeout_s`` seconds: up with its detail line, or down with
    the first line of what it raised (at most 160 characters). Never raises."""
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(probe, timeout_s)
        status: Status = "up"
    except Exception as error:  # any failure is the component being down, said in one line
        detail, status = (str(error) or type(error).__name__).splitlines()[0][:160], "down"
    return Check(component, status, detail, (time.perf_counter() - started) * 1000)


async def streams_present(js: JetStreamContext, subjects: Subjects) -> str:
    """ "N streams" when JetStream has every stream of the deployment; raises RuntimeError
    naming the missing ones otherwise."""
    missing = []
    configs = stream_configs(subjects)
    for config in configs:
        try:
            await js.stream_info(config.name or "")
        except NotFoundError:
            missing.append(config.name or "")
    if missing:
        raise RuntimeError(f"streams missing: {', '.join(missing)}")
    return f"{len(configs)} streams"


async def nats_streams(
    url: str, subjects: Subjects, *, auth: Mapping[str, str] | None = None
) -> str:
    """Connect to NATS at ``url`` (as ``auth``'s user and password, when given) and check the
    deployment's streams (:func:`streams_present`); the detail names the server (credentials
    redacted)."""
    client = await nats.connect(
        nats_servers(url), **(auth or {}), connect_timeout=2, max_reconnect_attempts=0
    )
    try:
        return f"{redact(url)}, {await streams_present(client.jetstream(), subjects)}"
    finally:
        await client.close()


async def migration(connection: Any) -> str:
    """The Alembic revision the database is at (``alembic_version``), as "migration 0005";
    ``connection`` is an asyncpg connection or pool."""
    revision = await connection.fetchval("SELECT version_num FROM alembic_version")
    return f"migration {revision}"


async def postgres_migration(url: str) -> str:
    """Connect to PostgreSQL at ``url`` and read its migration (:func:`migration`)."""
    connection = await asyncpg.connect(**asyncpg_dsn(url), timeout=2)
    try:
        return f"{redact(url)}, {await migration(connection)}"
    finally:
        await connection.close()


def service_ready(url: str, *, timeout_s: float = TIMEOUT_S) -> str:
    """A service's ``/health/ready`` (blocking; run it in a thread): the detail when it answers
    2xx, RuntimeError with the status code otherwise."""
    try:
        with urllib.request.urlopen(f"{url}/health/ready", timeout=timeout_s) as response:
            return f"{url} ready ({response.status})"
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"{url} not ready ({error.code})") from error
