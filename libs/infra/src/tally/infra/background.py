"""A background task a service app starts after its broker and cancels on shutdown."""

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

Hook = Callable[[], Awaitable[None]]


def background(run: Callable[[], Coroutine[Any, Any, None]], *, name: str) -> tuple[Hook, Hook]:
    """(start, stop) hooks for an app's ``after_startup`` and ``on_shutdown``: start runs
    ``run()`` in a task named ``name``; stop cancels it and waits for it to end."""
    tasks: list[asyncio.Task[None]] = []

    async def start() -> None:
        tasks.append(asyncio.create_task(run(), name=name))

    async def stop() -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        tasks.clear()

    return start, stop
