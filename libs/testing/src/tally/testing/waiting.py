"""Bounded waits for tests: poll a condition until it holds, fail naming what was awaited."""

import asyncio
import inspect
from collections.abc import Awaitable, Callable

Condition = Callable[[], Awaitable[bool] | bool]
"""A check, plain or async, that is true once the awaited state is reached."""


async def _holds(condition: Condition) -> bool:
    result = condition()
    return bool(await result) if inspect.isawaitable(result) else bool(result)


async def until(
    condition: Condition,
    *,
    timeout_s: float = 5,
    what: str = "the condition",
    every_s: float = 0.05,
) -> float:
    """Poll ``condition`` every ``every_s`` seconds until it is true; return the seconds it took.

    Raises AssertionError after ``timeout_s`` seconds, naming ``what`` was awaited.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    while not await _holds(condition):
        assert loop.time() - started < timeout_s, (
            f"timed out after {timeout_s} s waiting for {what}"
        )
        await asyncio.sleep(every_s)
    return loop.time() - started
