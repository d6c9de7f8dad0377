"""`tally up` with BOT_TOKEN starts the gateway as its own process, and a Telegram question
is answered through every service process (the Bot API is the local fake)."""

import asyncio
import os
import sys
from pathlib import Path
from uuid import uuid4

import asyncpg

from tally.infra.db.session import asyncpg_dsn
from tally.infra.settings import CommonSettings
from tally.testing.processes import stop_group
from tally.testing.telegram import DEFAULT_TOKEN, FakeTelegram


async def _started(process: asyncio.subprocess.Process) -> str:
    """tally up's output until the title of its summary table; fails if it exits first."""
    assert process.stdout
    output = ""
    while "Tally is running" not in output:
        line = (await asyncio.wait_for(process.stdout.readline(), 90)).decode()
        assert line, f"tally up exited early: {output}"
        output += line
    return output


async def test_telegram_question_through_service_processes(
    settings: CommonSettings, tmp_path: Path
) -> None:
    """The gateway process polls the fake Bot API and replies with the exact count."""
    async with FakeTelegram() as telegram:
        environment = {
            **os.environ,
            "NATS_URL": settings.nats_url,
            "DATABASE_URL": settings.database_url,
            "SUBJECT_PREFIX": f"g{uuid4().hex[:8]}",
            "TALLY_HOME": str(tmp_path),
            "BOT_TOKEN": DEFAULT_TOKEN,
            "TELEGRAM_API_BASE": telegram.base_url,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tally.cli.main",
            "up",
            "--no-sample-data",
            env=environment,
            stdout=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        try:
            await _started(process)
            telegram.push_message(
                chat_id=801, user_id=801, text="How many videos are in the system?"
            )
            [reply] = await telegram.wait_sent(chat_id=801, timeout=20)
        finally:
            code = await stop_group(process)
        assert code == 0
    database = await asyncpg.connect(**asyncpg_dsn(settings.database_url))
    count = await database.fetchval("SELECT count(*) FROM videos")
    await database.close()
    assert reply.text.startswith(f"{count:,}\n")
