"""``tally health``: is every component of a running Tally up?

Checks, all at once and each bounded by ``TIMEOUT_S``: NATS (connects, and JetStream has the
deployment's streams), PostgreSQL (answers, and reports its migration), and each service
``tally up`` started (its ``/health/ready`` answers 2xx: the service's own NATS and
database checks passed).
"""

import asyncio
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Literal

import asyncpg
import nats
from nats.js.errors import NotFoundError
from rich.table import Table

from tally.common.broker import stream_configs
from tally.common.db.session import asyncpg_dsn
from tally.common.settings import redact
from tally.common.subjects import Subjects

TIMEOUT_S = 3.0


@dataclass(frozen=True, slots=True)
class Check:
    """One component's state: ``up`` or ``down``, a detail line, and how long the check took
    (ms)."""

    component: str
    status: Literal["up", "down"]
    detail: str
    elapsed_ms: float


async def _timed(component: str, probe: Awaitable[str]) -> Check:
    started = time.perf_counter()
    try:
        detail = await asyncio.wait_for(probe, TIMEOUT_S)
        status: Literal["up", "down"] = "up"
    except Exception as error:  # any failure is the component being down, said in one line
        detail, status = (str(error) or type(error).__name__).splitlines()[0][:160], "down"
    return Check(component, status, detail, (time.perf_counter() - started) * 1000)


async def _nats(url: str, subjects: Subjects) -> str:
    client = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0)
    try:
        js = client.jetstream()
        missing = []
        for config in stream_configs(subjects):
            try:
                await js.stream_info(config.name or "")
            except NotFoundError:
                missing.append(config.name or "")
        if missing:
            raise RuntimeError(f"streams missing: {', '.join(missing)}")
        return f"{redact(url)}, {len(stream_configs(subjects))} streams"
    finally:
        await client.close()


async def _postgres(url: str) -> str:
    connection = await asyncpg.connect(**asyncpg_dsn(url), timeout=2)
    try:
        revision = await connection.fetchval("SELECT version_num FROM alembic_version")
        return f"{redact(url)}, migration {revision}"
    finally:
        await connection.close()


def _ready(url: str) -> str:
    try:
        with urllib.request.urlopen(f"{url}/health/ready", timeout=TIMEOUT_S) as response:
            return f"{url} ready ({response.status})"
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"{url} not ready ({error.code})") from error


async def check_all(
    *, nats_url: str, database_url: str, prefix: str, services: dict[str, str]
) -> list[Check]:
    """Every component's :class:`Check`, NATS and PostgreSQL first, then the services."""
    probes = [
        _timed("nats", _nats(nats_url, Subjects(prefix))),
        _timed("postgresql", _postgres(database_url)),
        *(_timed(name, asyncio.to_thread(_ready, url)) for name, url in services.items()),
    ]
    return list(await asyncio.gather(*probes))


def health_table(checks: list[Check]) -> Table:
    """The checks as a table: component, status (green up, red down), ms, detail."""
    table = Table(title="Tally health")
    for column in ("component", "status", "ms", "detail"):
        table.add_column(column)
    for check in checks:
        colour = "green" if check.status == "up" else "red"
        status = f"[{colour}]{check.status}[/]"
        table.add_row(check.component, status, f"{check.elapsed_ms:.0f}", check.detail)
    return table
