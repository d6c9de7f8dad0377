"""`tally up` with its embedded NATS: every process logs in as its own user, the logins are
private files, a client without one is refused, and every path still works: `tally ask`, a
Telegram question, group messages stored by ingest, a settings change from the dashboard;
nats-server reports no permissions violation on the way."""

import asyncio
import json
import os
import re
import stat
import sys
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from uuid import uuid4

import asyncpg
import nats
import nats.errors
import pytest

from tally.contracts.access import IDENTITIES
from tally.infra.db.session import asyncpg_dsn
from tally.infra.settings import CommonSettings
from tally.testing.processes import stop_group
from tally.testing.telegram import DEFAULT_TOKEN, FakeTelegram

pytestmark = pytest.mark.timeout(240)
TALLY = [sys.executable, "-m", "tally.cli.main"]
GROUP = -100_777_001
VIOLATION = re.compile(r"(Publish|Subscription) Violation")


async def _started(process: asyncio.subprocess.Process) -> None:
    assert process.stdout
    output = ""
    while "Tally is running" not in output:
        line = (await asyncio.wait_for(process.stdout.readline(), 120)).decode()
        assert line, f"tally up exited early: {output}"
        output += line


async def _tally(environment: dict[str, str], *arguments: str) -> str:
    process = await asyncio.create_subprocess_exec(
        *TALLY, *arguments, env=environment, stdout=asyncio.subprocess.PIPE
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, output
    return output.decode()


async def _until(check: Callable[[], Awaitable[bool]], *, timeout_s: float = 30) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await check():
        assert loop.time() < deadline, "not in time"
        await asyncio.sleep(0.2)


def _modes(directory: Path) -> dict[str, int]:
    """The permission bits of ``directory`` (under ".") and of each file in it."""
    found = {file.name: stat.S_IMODE(file.stat().st_mode) for file in directory.iterdir()}
    return found | {".": stat.S_IMODE(directory.stat().st_mode)}


def _put_settings(url: str, body: dict[str, object]) -> int:
    request = urllib.request.Request(
        f"{url}/api/chats/{GROUP}/settings",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="PUT",
    )
    with urllib.request.urlopen(request, timeout=10) as reply:
        return int(reply.status)


async def test_every_path_works_with_one_user_per_service(
    settings: CommonSettings, tmp_path: Path
) -> None:
    """Logins are 0600 files in a 0700 directory; a client without one is refused; `tally
    ask`, Telegram, ingest and the dashboard work; the server saw no permissions violation."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"NATS_URL", "NATS_USER", "NATS_PASSWORD", "ADMIN_API_TOKEN"}
    }
    database = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    async with FakeTelegram() as telegram:
        environment |= {
            "DATABASE_URL": settings.database_url,
            "SUBJECT_PREFIX": f"a{uuid4().hex[:8]}",
            "TALLY_HOME": str(tmp_path),
            "BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_API_BASE": telegram.base_url,
        }
        process = await asyncio.create_subprocess_exec(
            *TALLY,
            "up",
            "--no-sample-data",
            env=environment,
            stdout=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        try:
            await _started(process)
            state = json.loads((tmp_path / "stack.json").read_text())
            modes = _modes(Path(state["nats_logins"]))
            assert modes.pop(".") == 0o700
            assert set(modes) == {"nats.conf", *(f"{i}.json" for i in IDENTITIES)}
            assert set(modes.values()) == {0o600}
            with pytest.raises((nats.errors.Error, OSError)):
                await nats.connect(state["nats_url"], allow_reconnect=False)

            reply = json.loads(await _tally(environment, "ask", "--json", "How many videos?"))
            count = await database.fetchval("SELECT count(*) FROM videos")
            assert reply["answer"] == count

            telegram.push_message(chat_id=802, user_id=802, text="How many videos are there?")
            [answer] = await telegram.wait_sent(chat_id=802, timeout=30)
            assert answer.text.startswith(f"{count:,}\n")

            telegram.push_group_message(GROUP, 5, "hello there", message_id=1)

            async def stored() -> bool:
                found = await database.fetchval(
                    "SELECT count(*) FROM messages WHERE chat_id = $1", GROUP
                )
                return bool(found)

            await _until(stored)
            dashboard = state["services"]["dashboard"]
            assert await asyncio.to_thread(_put_settings, dashboard, {"timezone": "Asia/Tokyo"})

            async def changed() -> bool:
                zone = await database.fetchval(
                    "SELECT timezone FROM chats WHERE chat_id = $1", GROUP
                )
                return bool(zone == "Asia/Tokyo")

            await _until(changed)
        finally:
            code = await stop_group(process)
            await database.close()
        assert code == 0
    log = (tmp_path / "nats" / "nats-server.log").read_text().splitlines()
    assert [line for line in log if VIOLATION.search(line)] == []
