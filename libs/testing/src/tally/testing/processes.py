"""Child processes of the tests, each the leader of a process group of its own.

A test starts `tally up` (or a service) with ``start_new_session=True`` and stops it with
:func:`stop_group` / :func:`stop_group_sync` in a ``finally``: the whole group gets SIGINT
(what Ctrl-C sends), and whatever is still alive after the timeout gets SIGKILL, so no
service outlives pytest even when the stack hangs at shutdown.
"""

import asyncio
import contextlib
import os
import signal
import subprocess
import time


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signum)


async def stop_group(
    process: asyncio.subprocess.Process, *, timeout_s: float = 30, signum: int = signal.SIGINT
) -> int:
    """Send ``signum`` to the group led by ``process``; SIGKILL the group after ``timeout_s``.

    Returns the leader's exit code (-9 when it had to be killed). Any member left once the
    leader has exited is killed too.
    """
    _signal_group(process.pid, signum)
    try:
        code = await asyncio.wait_for(process.wait(), timeout_s)
    except TimeoutError:
        _kill_group(process.pid)
        code = await process.wait()
    _kill_group(process.pid)
    return code


def stop_group_sync(
    process: "subprocess.Popen[str]", *, timeout_s: float = 30, signum: int = signal.SIGINT
) -> int:
    """:func:`stop_group` for a ``subprocess.Popen``."""
    _signal_group(process.pid, signum)
    deadline = time.monotonic() + timeout_s
    while process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    if process.poll() is None:
        _kill_group(process.pid)
    code = process.wait()
    _kill_group(process.pid)
    return code
