"""``tally migrate`` and its verbs on a database of their own: upgrade, current, downgrade,
history, and ``--sql`` written without any database."""

from collections.abc import AsyncIterator

import pytest
from typer.testing import CliRunner

from tally.cli.main import app as cli
from tally.infra.db.revisions import revisions
from tally.infra.db.session import scratch_database


@pytest.fixture
async def empty_url(server_database_url: str) -> AsyncIterator[str]:
    async with scratch_database(server_database_url, "tally_cli_mig", migrated=False) as url:
        yield url


def _tally(*args: str, url: str | None = None) -> tuple[int, str]:
    env = {"DATABASE_URL": url} if url else {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x"}
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.output


def test_migrate_current_downgrade_and_back(empty_url: str) -> None:
    """``migrate`` goes to head; ``current`` says so; ``downgrade -1`` steps back one
    revision, ``downgrade base`` to nothing; ``migrate upgrade`` returns to head."""
    head, before_head = revisions()[-1], revisions()[-2]
    assert _tally("migrate", "current", url=empty_url) == (0, "")
    code, output = _tally("migrate", url=empty_url)
    assert code == 0 and "Migrated" in output
    assert _tally("migrate", "current", url=empty_url) == (0, f"{head} (head)\n")
    assert _tally("migrate", "downgrade", "--", "-1", url=empty_url)[0] == 0
    assert _tally("migrate", "current", url=empty_url) == (0, f"{before_head}\n")
    assert _tally("migrate", "downgrade", "base", url=empty_url)[0] == 0
    assert _tally("migrate", "current", url=empty_url) == (0, "")
    assert _tally("migrate", "upgrade", url=empty_url)[0] == 0
    assert _tally("migrate", "current", url=empty_url) == (0, f"{head} (head)\n")


def test_unknown_revision_is_a_sentence(empty_url: str) -> None:
    """A revision that does not exist: exit 2 and Alembic's reason, no traceback."""
    code, output = _tally("migrate", "downgrade", "nope", url=empty_url)
    assert code == 2 and "nope" in output and "Traceback" not in output


def test_history_needs_no_database() -> None:
    """Every revision is listed, newest first, with no database to reach."""
    code, output = _tally("migrate", "history")
    assert code == 0
    listed = [
        line.split(" -> ")[1].split(" ")[0].rstrip(",")
        for line in output.splitlines()
        if " -> " in line
    ]
    assert listed == list(reversed(revisions()))


def test_sql_is_written_offline() -> None:
    """``--sql`` prints the SQL of every migration, and of a downgrade given as a range,
    with no database to reach; a downgrade without a range is refused with a sentence."""
    head, before_head = revisions()[-1], revisions()[-2]
    code, output = _tally("migrate", "--sql")
    assert code == 0 and "CREATE TABLE videos" in output and f"'{head}'" in output
    code, output = _tally("migrate", "--sql", "--timescaledb")
    assert code == 0 and "create_hypertable('messages'" in output
    code, output = _tally("migrate", "downgrade", f"{head}:{before_head}", "--sql")
    assert code == 0 and f"version_num='{before_head}'" in output
    code, output = _tally("migrate", "downgrade", before_head, "--sql")
    assert code == 2 and "Traceback" not in output
