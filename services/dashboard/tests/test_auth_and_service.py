"""The admin token, the refusal to listen beyond localhost without one, input validation,
the read-only role, and /health, /metrics and /docs."""

import hmac
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import ValidationError

from tally.dashboard.app import create_app
from tally.dashboard.config import DashboardSettings
from tally.infra.settings import CommonSettings
from tests.factories.sample_chats import BERLIN, SampleChats

from .conftest import TOKEN

GUARDED = [
    "/api/chats",
    f"/api/chats/{BERLIN}/settings",
    f"/api/chats/{BERLIN}/summary",
    f"/api/chats/{BERLIN}/users",
    f"/api/chats/{BERLIN}/retention/preview",
]


@pytest.mark.parametrize("path", GUARDED)
@pytest.mark.parametrize("token", [None, "", "wrong-token-0123456789", TOKEN[:-1], TOKEN + "x"])
async def test_a_missing_or_wrong_token_is_401(
    anonymous: httpx.AsyncClient, sample: SampleChats, path: str, token: str | None
) -> None:
    """Without the exact token, every API route answers 401 with a JSON reason."""
    headers = {} if token is None else {"X-Admin-Token": token}
    reply = await anonymous.get(path, headers=headers)
    assert reply.status_code == 401
    assert reply.json() == {"detail": "Missing or wrong X-Admin-Token."}


async def test_the_token_is_compared_in_constant_time(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The header and ADMIN_API_TOKEN go through hmac.compare_digest."""
    seen: list[tuple[bytes, bytes]] = []
    compare = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        seen.append((a, b))
        return compare(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert (await client.get("/api/chats")).status_code == 200
    assert seen == [(TOKEN.encode(), TOKEN.encode())]


@pytest.fixture
async def tokenless(settings: CommonSettings) -> AsyncIterator[DashboardSettings]:
    yield DashboardSettings(**settings.model_dump(), admin_api_token=None)


@pytest.mark.parametrize(("client_host", "status"), [("127.0.0.1", 200), ("192.0.2.7", 401)])
async def test_without_a_token_only_loopback_is_answered(
    tokenless: DashboardSettings, streams: None, client_host: str, status: int
) -> None:
    """With no ADMIN_API_TOKEN, a loopback client needs no token; any other is refused."""
    app = create_app(tokenless)
    transport = httpx.ASGITransport(app=app, client=(client_host, 50000))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client,
    ):
        reply = await client.get("/api/chats")
    assert reply.status_code == status


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("evil.example", 400),
        ("evil.example:8000", 400),
        ("127.0.0.1.evil.example", 400),
        ("localhost.", 400),
        ("dashboard", 400),
        ("localhost:8000", 200),
        ("127.0.0.1:8000", 200),
        ("[::1]:8000", 200),
        ("LOCALHOST", 200),
    ],
)
async def test_without_a_token_only_local_host_names_are_answered(
    tokenless: DashboardSettings, streams: None, host: str, status: int
) -> None:
    """DNS rebinding: with no ADMIN_API_TOKEN, a loopback request whose ``Host`` is not a
    local name (a page on evil.example that made its name resolve to 127.0.0.1) is refused
    with 400, pages and API alike; localhost, 127.0.0.1 and [::1] are answered."""
    app = create_app(tokenless)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as client,
    ):
        replies = [await client.get(path, headers={"Host": host}) for path in ("/api/chats", "/")]
    assert [reply.status_code for reply in replies] == [status, status]


async def test_with_a_token_any_host_name_is_answered(client: httpx.AsyncClient) -> None:
    """Behind a proxy, with ADMIN_API_TOKEN set, the host name is the proxy's business: the
    token is what every API request must carry."""
    reply = await client.get("/api/chats", headers={"Host": "tally.example.org"})
    assert reply.status_code == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.7", "::", "dashboard.example"])
def test_without_a_token_only_localhost_may_be_bound(host: str) -> None:
    """Settings naming any host but 127.0.0.1 or localhost without a token are refused; a
    token of at least 16 characters lifts that; an empty token is no token."""
    with pytest.raises(ValidationError, match="ADMIN_API_TOKEN is not set"):
        DashboardSettings(dashboard_host=host)
    with pytest.raises(ValidationError, match="ADMIN_API_TOKEN is not set"):
        DashboardSettings(dashboard_host=host, admin_api_token="")
    with pytest.raises(ValidationError, match="at least 16"):
        DashboardSettings(dashboard_host=host, admin_api_token="short")
    assert DashboardSettings(dashboard_host=host, admin_api_token=TOKEN).dashboard_host == host
    for local in ("127.0.0.1", "localhost"):
        assert DashboardSettings(dashboard_host=local).admin_api_token is None


def test_the_process_refuses_to_start_on_a_public_host() -> None:
    """``python -m tally.dashboard`` with DASHBOARD_HOST=0.0.0.0 and no token exits with
    code 2 and says why, before binding anything."""
    environment = {k: v for k, v in os.environ.items() if k != "ADMIN_API_TOKEN"}
    environment.update(DASHBOARD_HOST="0.0.0.0", DASHBOARD_PORT="1")
    done = subprocess.run(
        [sys.executable, "-m", "tally.dashboard"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "refusing to start" in done.stderr and "ADMIN_API_TOKEN" in done.stderr


@pytest.mark.parametrize(
    "path",
    [
        "/api/chats/abc/summary",
        "/api/chats/1.5/settings",
        f"/api/chats/{BERLIN}/users?size=201",
        f"/api/chats/{BERLIN}/users?size=1000000",
        f"/api/chats/{BERLIN}/users?size=0",
        f"/api/chats/{BERLIN}/users?page=0",
        f"/api/chats/{BERLIN}/users?sort=password",
        f"/api/chats/{BERLIN}/users?sort=messages;DROP TABLE users",
        f"/api/chats/{BERLIN}/users?order=sideways",
        f"/api/chats/{BERLIN}/timeseries?metric=revenue",
        f"/api/chats/{BERLIN}/timeseries?bucket=minute",
        f"/api/chats/{BERLIN}/timeseries?metric=dau&bucket=hour",
        f"/api/chats/{BERLIN}/timeseries?bucket=hour&from=2025-01-01&to=2025-12-31",
        f"/api/chats/{BERLIN}/summary?from=2025-11-02&to=2025-10-20",
        f"/api/chats/{BERLIN}/summary?from=2025-13-01",
        f"/api/chats/{BERLIN}/summary?from=1900-01-01&to=2025-01-01",
        f"/api/chats/{BERLIN}/retention?weeks=53",
        f"/api/chats/{BERLIN}/users?search=a%00b",
    ],
)
async def test_bad_input_is_422(client: httpx.AsyncClient, path: str) -> None:
    """Non-integer ids, page sizes past 200, unknown sort keys, metrics and buckets, DAU by
    hour, reversed or overlong periods, a NUL in a search (found by schemathesis): 422 with a
    reason, never a query."""
    reply = await client.get(path)
    assert reply.status_code == 422, reply.text
    assert reply.json()["detail"]


async def test_an_unknown_chat_is_404(client: httpx.AsyncClient) -> None:
    reply = await client.get("/api/chats/-1/summary")
    assert (reply.status_code, reply.json()) == (404, {"detail": "No chat -1."})


async def test_the_database_login_is_read_only(client: httpx.AsyncClient) -> None:
    """The pool logs in as tally_reader with read-only transactions and a statement timeout."""
    services = client._transport.app.state.services  # type: ignore[attr-defined]
    pool = await services.reader.pool()
    assert await pool.fetchval("SELECT current_user") == "tally_reader"
    assert await pool.fetchval("SHOW default_transaction_read_only") == "on"
    assert await pool.fetchval("SHOW statement_timeout") == "5s"


async def test_health_metrics_and_docs(client: httpx.AsyncClient) -> None:
    """/health and /health/ready answer 204 (NATS and PostgreSQL up); /metrics counts
    requests by route template; /docs is served with its scripts from this origin."""
    for path in ("/health", "/health/live", "/health/ready"):
        assert (await client.get(path)).status_code == 204, path
    await client.get(f"/api/chats/{BERLIN}/summary")
    metrics = (await client.get("/metrics")).text
    assert 'route="/api/chats/{chat_id}/summary"' in metrics
    assert "tally_dashboard_request_seconds" in metrics
    docs = (await client.get("/docs")).text
    assert "/static-offline-docs/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    assert (await client.get("/static-offline-docs/swagger-ui-bundle.js")).status_code == 200
    schema = (await client.get("/openapi.json")).json()
    assert "/api/chats/{chat_id}/timeseries" in schema["paths"]
    assert "APIKeyHeader" in schema["components"]["securitySchemes"]
