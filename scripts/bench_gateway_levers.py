"""CPU time of the pieces of a private question that issue 17's later levers changed, each
alone, old way and new way, in µs per call (``time.process_time`` over many calls).

``scripts/bench_gateway.py`` measures the gateway as a whole; its rounds move by ±10% on a
shared machine, more than any one of these levers is worth. This script gives each lever's
own cost, which does not depend on the other processes:

- **throttle**: ``SharedThrottle.check`` of a user whose every message is allowed, on the
  NATS at NATS_URL: the entry read then written (the old way, as a fresh throttle that keeps
  nothing does) against written on the revision kept;
- **retries**: one successful send through tenacity's ``AsyncRetrying`` against awaited
  directly (``tally.gateway.telegram.delivery``'s first attempt);
- **reply parsed**: aiogram's response check of a sendMessage reply, as a ``Message``
  (``SendMessage``) against left JSON (``SendMessageUnread``);
- **command filters**: the ten ``Command`` filters a private question met before
  ``MAYBE_COMMAND`` against the three checks it meets now;
- **counter**: ``Counter.labels(kind=...).inc()`` against the child looked up once.

Usage: ``NATS_URL=nats://127.0.0.1:4222 uv run python scripts/bench_gateway_levers.py [CALLS]``
"""

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import nats
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.filters import Command
from aiogram.methods import SendMessage
from aiogram.types import Message
from prometheus_client import CollectorRegistry, Counter
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import Subjects
from tally.gateway.shared import GatewayState, SharedThrottle
from tally.gateway.telegram.delivery import SendMessageUnread
from tally.gateway.telegram.filters import MAYBE_COMMAND
from tally.infra.settings import CommonSettings
from tally.testing.telegram import DEFAULT_TOKEN

CALLS = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
COMMAND_FILTERS = (
    ("analytics", "health", "metrics"),  # admin: two handlers
    ("analytics", "health", "metrics"),
    ("alerts", "silences", "silence", "unsilence", "watch"),  # alerts: four handlers
    ("alerts",),
    ("silences",),
    ("silence",),
    ("start", "help"),  # private commands: two, and the unknown command's startswith
    ("sql",),
)


def per_call_us(run: Callable[[], Any], calls: int = CALLS) -> float:
    """CPU µs per call of ``run`` (a warm-up of a tenth first)."""
    for _ in range(calls // 10):
        run()
    started = time.process_time()
    for _ in range(calls):
        run()
    return (time.process_time() - started) * 1e6 / calls


async def per_call_us_async(run: Callable[[], Awaitable[Any]], calls: int = CALLS) -> float:
    """CPU µs per awaited call of ``run`` (a warm-up of a tenth first)."""
    for _ in range(calls // 10):
        await run()
    started = time.process_time()
    for _ in range(calls):
        await run()
    return (time.process_time() - started) * 1e6 / calls


async def throttle() -> tuple[float, float]:
    settings = CommonSettings()
    subjects = Subjects(f"levers{uuid4().hex[:8]}")
    nc = await nats.connect(settings.nats_servers(), **settings.nats_auth())
    try:
        await ensure_streams(nc.jetstream(), subjects)
        state = GatewayState(subjects)
        await state.open(nc.jetstream())
        users = iter(range(10**9))
        kept = SharedThrottle(state, "private", interval_s=1e-9)
        user = next(users)

        async def read_then_write() -> None:  # nothing kept: the entry is read every time
            fresh = SharedThrottle(state, "private", interval_s=1e-9)
            await fresh.check(user)

        async def on_revision_kept() -> None:
            await kept.check(user)

        old = await per_call_us_async(read_then_write, CALLS // 4)
        new = await per_call_us_async(on_revision_kept, CALLS // 4)
        await delete_streams(nc.jetstream(), subjects)
        return old, new
    finally:
        await nc.close()


async def retries() -> tuple[float, float]:
    async def send() -> None:
        return None

    async def through_tenacity() -> None:
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(OSError), stop=stop_after_attempt(3), reraise=True
        )
        async for attempt in retrying:
            with attempt:
                await send()

    return await per_call_us_async(through_tenacity), await per_call_us_async(send)


def reply_parsed(bot: Bot) -> tuple[float, float]:
    result = {
        "message_id": 5,
        "date": 1_700_000_000,
        "chat": {"id": 7_000_001, "type": "private", "first_name": "Ann"},
        "from": {"id": 123_456, "is_bot": True, "first_name": "Tally", "username": "tally_bot"},
        "text": "1,234 videos got more than 100,000 views (all time).",
        "reply_markup": {
            "inline_keyboard": [
                [
                    {"text": "👍", "callback_data": f"fb:up:{uuid4().hex}"},
                    {"text": "👎", "callback_data": f"fb:down:{uuid4().hex}"},
                ]
            ]
        },
    }
    content = json.dumps({"ok": True, "result": result})
    parsed, unread = SendMessage(chat_id=1, text="x"), SendMessageUnread(chat_id=1, text="x")
    check = bot.session.check_response
    return (
        per_call_us(lambda: check(bot, parsed, 200, content)),
        per_call_us(lambda: check(bot, unread, 200, content)),
    )


async def command_filters(bot: Bot) -> tuple[float, float]:
    message = Message.model_validate(
        {
            "message_id": 1,
            "date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": 7_000_001, "type": "private"},
            "from": {"id": 7_000_001, "is_bot": False, "first_name": "Ann"},
            "text": "How many videos got more than 100,000 views?",
        }
    )
    filters = [Command(*names) for names in COMMAND_FILTERS]

    async def every_command_filter() -> None:
        for command in filters:
            await command(message, bot)

    async def maybe_command() -> None:
        for _ in range(3):  # admin, alerts, private commands
            await MAYBE_COMMAND(message)

    return await per_call_us_async(every_command_filter), await per_call_us_async(maybe_command)


def counter() -> tuple[float, float]:
    messages = Counter("m", "m", ["kind"], registry=CollectorRegistry())
    child = messages.labels(kind="question")
    return per_call_us(lambda: messages.labels(kind="question").inc()), per_call_us(child.inc)


async def main() -> None:
    bot = Bot(DEFAULT_TOKEN, session=AiohttpSession())  # never sends: no request here
    rows = {
        "throttle (KV read + compare-and-set -> compare-and-set)": await throttle(),
        "retries (tenacity loop -> awaited)": await retries(),
        "sendMessage reply (Message -> JSON)": reply_parsed(bot),
        "command filters (10 Command -> 3 MAYBE_COMMAND)": await command_filters(bot),
        "counter (labels().inc() -> child.inc())": counter(),
    }
    await bot.session.close()
    print(f"{'lever':58} {'old µs':>8} {'new µs':>8} {'saved':>8}")
    for name, (old, new) in rows.items():
        print(f"{name:58} {old:8.1f} {new:8.1f} {old - new:8.1f}")


if __name__ == "__main__":
    asyncio.run(main())
