"""Starting an aiohttp server on 127.0.0.1: the load test's Bot API simulator and the test
fakes (``tally.testing``) run theirs with :func:`serve`."""

from aiohttp import web


async def serve(
    app: web.Application, *, shutdown_timeout: float, port: int = 0
) -> tuple[web.AppRunner, int]:
    """Run ``app`` on 127.0.0.1 at ``port`` (0: one the OS picks); return its runner and the
    port.

    Call ``await runner.cleanup()`` to stop it.
    """
    runner = web.AppRunner(app, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    port = int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
    return runner, port
