"""Starting a fake HTTP server of the tests on a free local port."""

from aiohttp import web


async def serve(app: web.Application, *, shutdown_timeout: float) -> tuple[web.AppRunner, int]:
    """Run ``app`` on 127.0.0.1 at a port the OS picks; return its runner and the port.

    Call ``await runner.cleanup()`` to stop it.
    """
    runner = web.AppRunner(app, shutdown_timeout=shutdown_timeout)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
    return runner, port
