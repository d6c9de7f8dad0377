"""Responses are gzipped for clients that accept it: plotly.js (4.8 MB as shipped) crosses the
wire at under a third of its size, and a client that asks for no encoding gets it as it is."""

import gzip

import httpx

from tally.dashboard.web import PLOTLY_JS


async def test_plotly_is_gzipped_when_the_client_accepts_it(anonymous: httpx.AsyncClient) -> None:
    """Accept-Encoding gzip: Content-Encoding gzip, the bytes on the wire under a third of the
    file's, and they decompress to the file."""
    shipped = PLOTLY_JS.read_bytes()
    async with anonymous.stream(
        "GET", "/vendor/plotly.min.js", headers={"Accept-Encoding": "gzip"}
    ) as response:
        wire = b"".join([chunk async for chunk in response.aiter_raw()])
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert len(wire) < len(shipped) / 3
    assert gzip.decompress(wire) == shipped


async def test_plotly_is_sent_as_it_is_without_accept_encoding(
    anonymous: httpx.AsyncClient,
) -> None:
    """Accept-Encoding identity: no Content-Encoding, the file's bytes."""
    response = await anonymous.get("/vendor/plotly.min.js", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert response.content == PLOTLY_JS.read_bytes()


async def test_a_small_response_is_not_compressed(anonymous: httpx.AsyncClient) -> None:
    """/health/live is a few bytes: sent as it is even to a gzip client."""
    response = await anonymous.get("/health/live", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in response.headers
