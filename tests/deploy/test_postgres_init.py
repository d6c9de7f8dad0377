"""deploy/postgres/initdb/10-tally-reader.sh, run for real on the test PostgreSQL server.

The script is what the TimescaleDB image runs on a new volume (as its docker-entrypoint does:
``sh`` with POSTGRES_USER and POSTGRES_DB set and psql on the local server). Roles are
cluster-wide and the server is shared, so the test runs a copy that names a role of its own.
"""

import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from tally.common.db.session import asyncpg_dsn
from tests.deploy.layout import DEPLOY

SCRIPT = DEPLOY / "postgres" / "initdb" / "10-tally-reader.sh"


@pytest.fixture
async def role(server_database_url: str) -> AsyncIterator[str]:
    name = f"tally_reader_{uuid4().hex[:8]}"
    yield name
    connection = await asyncpg.connect(server_database_url)
    try:
        await connection.execute(f"DROP ROLE IF EXISTS {name}")
    finally:
        await connection.close()


async def _role_row(url: str, name: str) -> Any:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchrow(
            "SELECT rolcanlogin, rolsuper, rolpassword FROM pg_authid WHERE rolname = $1", name
        )
    finally:
        await connection.close()


def _run(script: Path, url: str, password: str) -> subprocess.CompletedProcess[str]:
    dsn = asyncpg_dsn(url)  # the embedded server's URL names its socket directory as host
    env = {
        **os.environ,
        "PGHOST": str(dsn.get("host") or "127.0.0.1"),
        "PGPORT": str(dsn.get("port") or 5432),
        "PGPASSWORD": str(dsn.get("password") or ""),
        "POSTGRES_USER": str(dsn.get("user") or "postgres"),
        "POSTGRES_DB": str(dsn.get("database") or "postgres"),
        "TALLY_READER_PASSWORD": password,
    }
    return subprocess.run(
        ["sh", str(script)], env=env, capture_output=True, text=True, timeout=60, check=False
    )


async def test_init_script_creates_the_reader_login_once(
    server_database_url: str, role: str, tmp_path: Path
) -> None:
    """A login role with a password (quotes and all) is created; a second run keeps it; an
    empty password stops the script."""
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed (the TimescaleDB image has it)")
    script = tmp_path / "init.sh"
    script.write_text(SCRIPT.read_text().replace("tally_reader", role))
    first = _run(script, server_database_url, "it's 'quoted'")
    assert first.returncode == 0, first.stderr
    created = await _role_row(server_database_url, role)
    assert created["rolcanlogin"] and not created["rolsuper"] and created["rolpassword"]
    assert _run(script, server_database_url, "another").returncode == 0
    assert (await _role_row(server_database_url, role))["rolpassword"] == created["rolpassword"]
    assert _run(script, server_database_url, "").returncode != 0
