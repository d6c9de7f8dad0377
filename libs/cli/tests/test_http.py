"""Starting a local aiohttp server (the Bot API simulator's and the test fakes')."""

import socket

import aiohttp
import pytest
from aiohttp import web

from tally.cli.http import serve


def _app() -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    app = web.Application()
    app.router.add_get("/", hello)
    return app


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_server_answers_on_the_port_it_returns_until_cleaned_up() -> None:
    """Port 0: the OS picks one, and the server answers there; a given port is the one used;
    after ``cleanup`` nothing listens."""
    wanted = _free_port()
    for asked in (0, wanted):
        runner, port = await serve(_app(), shutdown_timeout=0.1, port=asked)
        assert port != 0 and (asked == 0 or port == wanted)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/") as answer:
                assert await answer.text() == "hello"
            await runner.cleanup()
            with pytest.raises(aiohttp.ClientConnectionError):
                await http.get(f"http://127.0.0.1:{port}/")
