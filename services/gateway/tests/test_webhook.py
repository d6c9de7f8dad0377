"""Webhook mode: the real gateway serves its webhook endpoint, driven with httpx as Telegram
would; setWebhook goes to the fake Bot API and the replies too.

A request without the secret token, or with a wrong one, is refused (401) and nothing of it is
handled; a body that is not an update is refused (400) and the gateway keeps serving.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from structlog.testing import capture_logs

from tally.contracts.events import QuestionAsked
from tally.contracts.subjects import Subjects
from tally.gateway.app import Gateway
from tally.gateway.config import GatewaySettings
from tally.gateway.webhook import MAX_BODY_BYTES, SECRET_HEADER
from tally.infra.errors import ConfigurationError
from tally.testing.telegram import DEFAULT_TOKEN, FakeTelegram

SECRET = "s3cret-webhook-token_0123456789"
URL = "https://tally.example.org/telegram/webhook"
Listen = Callable[..., Awaitable[Any]]

pytestmark = pytest.mark.timeout(60)
integration = pytest.mark.usefixtures("streams", "gateway")


@pytest.fixture(scope="module")
def gateway_settings(gateway_settings: GatewaySettings) -> GatewaySettings:
    """Webhook mode on a free local port."""
    return gateway_settings.model_copy(
        update={
            "webhook_url": URL,
            "webhook_secret": SecretStr(SECRET),
            "webhook_host": "127.0.0.1",
            "webhook_port": 0,
        }
    )


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as http:
        yield http


def sample(gateway: Gateway, outcome: str) -> float:
    value = gateway.registry.get_sample_value(
        "tally_gateway_webhook_requests_total", {"outcome": outcome}
    )
    return value or 0.0


async def post(
    client: httpx.AsyncClient, gateway: Gateway, body: Any, *, secret: str | None = SECRET
) -> httpx.Response:
    """POST ``body`` (JSON, or bytes as they are) to the gateway's webhook endpoint."""
    assert gateway.webhook_endpoint is not None
    headers = {} if secret is None else {SECRET_HEADER: secret}
    if isinstance(body, bytes):
        headers["Content-Type"] = "application/json"
        return await client.post(gateway.webhook_endpoint, content=body, headers=headers)
    return await client.post(gateway.webhook_endpoint, json=body, headers=headers)


@integration
async def test_start_sets_the_webhook_with_the_secret_and_no_polling(
    gateway: Gateway, telegram: FakeTelegram
) -> None:
    """On start the gateway calls setWebhook with WEBHOOK_URL, the secret token and every
    update type it captures, and never polls."""
    webhook = telegram.webhook

    assert webhook is not None
    assert (webhook["url"], webhook["secret_token"]) == (URL, SECRET)
    assert {"message", "callback_query", "chat_member", "message_reaction"} <= set(
        webhook["allowed_updates"]
    )
    assert "getUpdates" not in telegram.calls
    assert gateway.webhook_endpoint is not None
    assert gateway.webhook_endpoint.endswith("/telegram/webhook")


@integration
async def test_an_update_with_the_secret_is_handled(
    gateway: Gateway, telegram: FakeTelegram, client: httpx.AsyncClient, user_id: int
) -> None:
    """A /start posted with the right token is answered 200 and the bot replies through the
    Bot API."""
    update = telegram.update(telegram.push_message(user_id, user_id, "/start"))
    accepted = sample(gateway, "accepted")

    response = await post(client, gateway, update)
    [reply] = await telegram.wait_sent(chat_id=user_id)

    assert response.status_code == 200
    assert "Tally" in reply.text
    assert sample(gateway, "accepted") - accepted == 1


@integration
@pytest.mark.parametrize("secret", [None, "", "wrong-secret-token-0123456789", SECRET + "x"])
async def test_without_the_secret_nothing_is_handled(
    gateway: Gateway,
    telegram: FakeTelegram,
    client: httpx.AsyncClient,
    subjects: Subjects,
    listen: Listen,
    user_id: int,
    secret: str | None,
) -> None:
    """No token, an empty one or a wrong one: 401, no question published, no reply; the
    refusal is logged without the token sent."""
    questions = await listen(subjects.question_asked, QuestionAsked, user_id)
    update = telegram.update(telegram.push_message(user_id, user_id, "How many videos?"))
    refused = sample(gateway, "unauthorized")

    with capture_logs() as logs:
        response = await post(client, gateway, update, secret=secret)

    assert response.status_code == 401
    with pytest.raises(TimeoutError):
        await questions.next(timeout=1)
    await telegram.assert_nothing_sent(chat_id=user_id, within=0.1)
    assert sample(gateway, "unauthorized") - refused == 1
    [refusal] = [entry for entry in logs if entry["event"] == "webhook request refused"]
    assert refusal["log_level"] == "warning"
    if secret:
        assert all(secret not in repr(entry) for entry in logs)


@integration
@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"[1, 2]", {"update_id": "twelve"}, {"message": {"text": "hi"}}],
    ids=["not-json", "empty", "array", "bad-update-id", "no-update-id"],
)
async def test_a_body_that_is_not_an_update_is_a_bad_request(
    gateway: Gateway,
    telegram: FakeTelegram,
    client: httpx.AsyncClient,
    user_id: int,
    body: Any,
) -> None:
    """Garbage with the right token: 400, and the next update is handled as usual."""
    malformed = sample(gateway, "malformed")

    response = await post(client, gateway, body)
    update = telegram.update(telegram.push_message(user_id, user_id, "/help"))
    after = await post(client, gateway, update)

    assert response.status_code == 400
    assert sample(gateway, "malformed") - malformed == 1
    assert after.status_code == 200
    [reply] = await telegram.wait_sent(chat_id=user_id)
    assert "Tally" in reply.text


@integration
async def test_an_oversized_body_is_refused(gateway: Gateway, client: httpx.AsyncClient) -> None:
    """A body over MAX_BODY_BYTES is answered 413 without being parsed."""
    response = await post(client, gateway, b"{" + b" " * MAX_BODY_BYTES + b"}")

    assert response.status_code == 413


@integration
async def test_only_the_configured_path_is_served(
    gateway: Gateway, client: httpx.AsyncClient
) -> None:
    """Other paths and methods are not served: no docs, no OpenAPI document, no GET."""
    assert gateway.webhook_endpoint is not None
    root = gateway.webhook_endpoint.removesuffix("/telegram/webhook")

    for path in ("/docs", "/openapi.json", "/"):
        assert (await client.get(root + path)).status_code == 404
    assert (await client.get(gateway.webhook_endpoint)).status_code == 405


@pytest.mark.parametrize(
    "secret", [None, "short-secret", "has spaces in it, sixteen+", "é" * 20], ids=str
)
def test_webhook_mode_needs_a_valid_secret(secret: str | None) -> None:
    """WEBHOOK_URL without WEBHOOK_SECRET, or with one Telegram would refuse or shorter than
    16 characters, is a configuration error that does not show the secret."""
    settings = GatewaySettings(bot_token=DEFAULT_TOKEN, webhook_url=URL, webhook_secret=secret)

    with pytest.raises(ConfigurationError, match="WEBHOOK_SECRET") as error:
        settings.require_webhook()

    assert secret is None or secret not in str(error.value)


def test_polling_without_a_webhook_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without WEBHOOK_URL (unset or blank) the gateway polls; the secret is not needed."""
    monkeypatch.setenv("WEBHOOK_URL", "")

    assert GatewaySettings(bot_token=DEFAULT_TOKEN).require_webhook() is None


def test_webhook_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """WEBHOOK_URL, WEBHOOK_SECRET, WEBHOOK_PATH, WEBHOOK_HOST and WEBHOOK_PORT are read."""
    for name, value in {
        "WEBHOOK_URL": URL,
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_PATH": "/hook",
        "WEBHOOK_HOST": "0.0.0.0",
        "WEBHOOK_PORT": "8443",
    }.items():
        monkeypatch.setenv(name, value)

    config = GatewaySettings(bot_token=DEFAULT_TOKEN).require_webhook()

    assert config is not None
    assert (config.url, config.path, config.host, config.port) == (URL, "/hook", "0.0.0.0", 8443)
    assert config.secret.get_secret_value() == SECRET
    assert SECRET not in repr(config)
