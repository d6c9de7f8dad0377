"""The gateway as a process: settings, the missing-token exit, the ASGI app's lifespan."""

import logging
from collections.abc import Iterator

import pytest

from tally.gateway import __main__ as entrypoint
from tally.gateway.app import UPDATE_LOGGER, Gateway, create_app
from tally.gateway.config import GatewaySettings
from tally.infra.errors import ConfigurationError
from tally.infra.settings import CommonSettings
from tally.testing.telegram import DEFAULT_TOKEN, FakeTelegram


@pytest.fixture
def no_token(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)  # type: ignore[arg-type]


@pytest.mark.usefixtures("no_token")
def test_missing_token_is_a_configuration_error() -> None:
    """Without BOT_TOKEN the settings load, but asking for the token says what to do."""
    with pytest.raises(ConfigurationError, match="BOT_TOKEN"):
        GatewaySettings().require_bot_token()


@pytest.mark.usefixtures("no_token")
def test_main_exits_with_a_clear_message_without_token() -> None:
    """``tally-gateway`` without BOT_TOKEN exits non-zero, naming the variable."""
    with pytest.raises(SystemExit) as exit_info:
        entrypoint.main()

    assert "BOT_TOKEN is not set" in str(exit_info.value.code)


def test_settings_read_admin_chats_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """ADMIN_CHAT_IDS is a comma-separated list of chat ids."""
    monkeypatch.setenv("ADMIN_CHAT_IDS", "-100, 42")

    assert GatewaySettings(bot_token=DEFAULT_TOKEN).admin_chat_ids == [-100, 42]


async def test_app_polls_while_running_and_stops_cleanly(settings: CommonSettings) -> None:
    """The ASGI app starts polling after the broker starts and stops it on shutdown."""
    async with FakeTelegram() as telegram:
        gateway_settings = GatewaySettings(
            **settings.model_dump(), bot_token=DEFAULT_TOKEN, telegram_api_base=telegram.base_url
        )
        async with create_app(gateway_settings):
            telegram.push_message(77, 77, "/start")
            [reply] = await telegram.wait_sent(chat_id=77)
        calls_after_stop = len(telegram.calls)
        telegram.push_message(78, 78, "/start")
        await telegram.assert_nothing_sent(within=0.3)

    assert "Tally" in reply.text
    assert len(telegram.calls) == calls_after_stop


async def test_wrong_token_is_refused_by_the_fake_server(settings: CommonSettings) -> None:
    """The fake Bot API checks the token in the URL path, as Telegram does."""
    async with FakeTelegram() as telegram:
        gateway_settings = GatewaySettings(
            **settings.model_dump(), bot_token="999:wrong", telegram_api_base=telegram.base_url
        )
        app = create_app(gateway_settings)
        with pytest.raises(Exception, match="Unauthorized"):
            async with app:
                pass
        await app.stop()


@pytest.fixture
def update_logger() -> Iterator[logging.Logger]:
    """aiogram's per-update logger; its level and the root logger's (which the test sets)
    restored after the test, so no later test runs with the root at DEBUG."""
    logger = logging.getLogger(UPDATE_LOGGER)
    level, root_level = logger.level, logging.getLogger().level
    yield logger
    logger.setLevel(level)
    logging.getLogger().setLevel(root_level)


@pytest.mark.parametrize(("log_level", "shown"), [("INFO", False), ("DEBUG", True)])
async def test_the_line_per_update_shows_only_at_debug(
    update_logger: logging.Logger, log_level: str, shown: bool
) -> None:
    """aiogram's "Update id=... is handled" (INFO) is logged at LOG_LEVEL=DEBUG only; its
    warnings and errors at any level."""
    logging.getLogger().setLevel(logging.DEBUG if shown else logging.INFO)
    gateway = Gateway(GatewaySettings(bot_token=DEFAULT_TOKEN, log_level=log_level))
    await gateway.close()

    assert update_logger.isEnabledFor(logging.INFO) is shown
    assert update_logger.isEnabledFor(logging.WARNING)
