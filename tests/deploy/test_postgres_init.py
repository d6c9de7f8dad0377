"""deploy/postgres/initdb/10-tally-roles.sh, run for real on the test PostgreSQL server.

The script is what the TimescaleDB image runs on a new volume (as its docker-entrypoint does:
``sh`` with POSTGRES_USER and POSTGRES_DB set and psql on the local server). Roles are
cluster-wide and the server is shared, so the test runs a copy that names roles of its own.
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

from tally.infra.db.session import asyncpg_dsn
from tests.deploy.layout import DEPLOY

SCRIPT = DEPLOY / "postgres" / "initdb" / "10-tally-roles.sh"
ROLES = ("tally_reader", "tally_ops", "tally_llm")
PASSWORDS = ("TALLY_READER_PASSWORD", "TALLY_OPS_PASSWORD", "TALLY_LLM_PASSWORD")


@pytest.fixture
async def roles(server_database_url: str) -> AsyncIterator[dict[str, str]]:
    """Each of Tally's role names -> a name of this test's own (dropped afterwards)."""
    suffix = uuid4().hex[:8]
    names = {role: f"{role}_{suffix}" for role in ROLES}
    yield names
    connection = await asyncpg.connect(server_database_url)
    try:
        for name in names.values():
            await connection.execute(f"DROP ROLE IF EXISTS {name}")
    finally:
        await connection.close()


async def _role_row(url: str, name: str) -> Any:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchrow(
            "SELECT a.rolcanlogin, a.rolsuper, a.rolpassword, r.rolconfig"
            " FROM pg_authid a JOIN pg_roles r USING (oid) WHERE a.rolname = $1",
            name,
        )
    finally:
        await connection.close()


def _run(script: Path, url: str, passwords: dict[str, str]) -> subprocess.CompletedProcess[str]:
    dsn = asyncpg_dsn(url)  # the embedded server's URL names its socket directory as host
    env = {
        **os.environ,
        "PGHOST": str(dsn.get("host") or "127.0.0.1"),
        "PGPORT": str(dsn.get("port") or 5432),
        "PGPASSWORD": str(dsn.get("password") or ""),
        "POSTGRES_USER": str(dsn.get("user") or "postgres"),
        "POSTGRES_DB": str(dsn.get("database") or "postgres"),
        **passwords,
    }
    return subprocess.run(
        ["sh", str(script)], env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.fixture
def script(roles: dict[str, str], tmp_path: Path) -> Path:
    """A copy of the script that creates this test's roles."""
    if shutil.which("psql") is None:
        pytest.skip("psql is not installed (the TimescaleDB image has it)")
    text = SCRIPT.read_text()
    for role, name in roles.items():
        text = text.replace(role, name)
    copy = tmp_path / "init.sh"
    copy.write_text(text)
    return copy


async def test_init_script_creates_each_login_once(
    server_database_url: str, roles: dict[str, str], script: Path
) -> None:
    """The reader, ops and LLM logins are created with their passwords (quotes and all), the
    LLM's read-only by default; a second run keeps them."""
    first = _run(script, server_database_url, dict.fromkeys(PASSWORDS, "it's 'quoted'"))
    assert first.returncode == 0, first.stderr
    created = {role: await _role_row(server_database_url, name) for role, name in roles.items()}
    for row in created.values():
        assert row["rolcanlogin"] and not row["rolsuper"] and row["rolpassword"]
    assert created["tally_llm"]["rolconfig"] == ["default_transaction_read_only=on"]
    again = _run(script, server_database_url, dict.fromkeys(PASSWORDS, "another"))
    assert again.returncode == 0, again.stderr
    for role, name in roles.items():
        row = await _role_row(server_database_url, name)
        assert row["rolpassword"] == created[role]["rolpassword"]


@pytest.mark.parametrize("missing", PASSWORDS)
def test_an_empty_password_stops_the_script(
    server_database_url: str, script: Path, missing: str
) -> None:
    passwords = dict.fromkeys(PASSWORDS, "secret") | {missing: ""}
    assert _run(script, server_database_url, passwords).returncode != 0
