"""The gateway's settings: the common ones, the Telegram ones and its own."""

import re
import secrets
from dataclasses import dataclass
from datetime import time
from typing import Annotated, Final

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from tally.contracts.dashboard_link import DEFAULT_TTL, MIN_SECRET_LENGTH
from tally.infra.errors import ConfigurationError
from tally.infra.settings import CommonSettings

WEBHOOK_SECRET_PATTERN: Final = re.compile(r"[A-Za-z0-9_-]{16,256}")
"""Telegram takes a ``secret_token`` of 1-256 characters from ``A-Za-z0-9_-``
(https://core.telegram.org/bots/api#setwebhook); Tally asks for at least 16."""


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """Webhook mode, checked: Telegram posts updates to ``url``; the gateway serves ``path``
    on ``host``:``port`` (0: a free port) and accepts requests carrying ``secret``."""

    url: str
    path: str
    host: str
    port: int
    secret: SecretStr


def _int_list(value: object) -> object:
    """``"-100, 42;7"`` -> ``[-100, 42, 7]``; anything else as it is (pydantic checks it)."""
    if isinstance(value, str):
        return [int(part) for part in value.replace(";", ",").split(",") if part.strip()]
    return value


class TelegramSettings(BaseSettings):
    """Telegram-facing settings: ``BOT_TOKEN``, ``TELEGRAM_API_BASE`` (a Bot API server other
    than api.telegram.org, e.g. the tests' fake), ``ADMIN_CHAT_IDS`` (chats that get alert
    notifications) and ``ADMIN_USER_IDS`` (comma-separated ids)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    bot_token: SecretStr | None = None
    telegram_api_base: str | None = None
    admin_chat_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    admin_user_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    """Telegram user ids allowed to use admin commands and alert buttons (empty: nobody)."""

    @field_validator("admin_chat_ids", "admin_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        return _int_list(value)


class GatewaySettings(CommonSettings, TelegramSettings):
    """Settings of one gateway process (``BOT_TOKEN``, ``TELEGRAM_API_BASE``, ``ADMIN_CHAT_IDS``).

    ``throttle_interval_s`` is the least time between two messages of one user in a private
    chat that are both handled (seconds); ``group_throttle_interval_s`` the same for the
    messages of one user that ask something of the bot in groups (questions, reports, admin
    commands); ``seen_users_max`` bounds the first-contact and throttling memories (user ids).
    ``allowed_chat_ids`` (``ALLOWED_CHAT_IDS``), when not empty, is the only chats whose updates
    are handled, with the admins' chats (see :meth:`allowed_chats`). ``webhook_*``: see
    :meth:`require_webhook`. ``member_count_time`` (``MEMBER_COUNT_TIME``, ``HH:MM``, UTC) is
    when each day the member count of every known group is taken
    (:mod:`tally.gateway.telegram.member_counts`).
    """

    throttle_interval_s: float = Field(default=0.5, ge=0)
    group_throttle_interval_s: float = Field(default=3.0, ge=0)
    """60 s / 20: Telegram lets a bot send 20 messages a minute to a group, so one member
    alone cannot ask faster than the bot may answer."""
    seen_users_max: int = Field(default=10_000, ge=1)
    reply_concurrency: int = Field(default=64, ge=1)
    """Answers being sent to Telegram at once. Each send is an HTTP round trip; one at a time,
    a round trip of 50 ms would cap the bot at 20 answers/s (BENCHMARKS.md, "Load")."""
    gateway_instance: str = Field(
        default_factory=lambda: secrets.token_hex(6), pattern=r"^[A-Za-z0-9_-]{1,64}$"
    )
    """This gateway's name on the bus (``GATEWAY_INSTANCE``; default: random at each start):
    its questions carry it as ``reply_to``, so their answers come back to it alone, and with
    several gateways behind one webhook address each answer reaches the gateway that holds its
    question (and re-asks it). Give each running gateway its own."""
    reask_after_s: float = Field(default=2.0, ge=0)
    """A question not answered after this many seconds is published again under its id
    (then after 2x, 4x..., until 15 s; see domain.reasks); 0 turns re-asking off."""
    group_sends_per_second: float = Field(default=1.0, gt=0)
    """Telegram's limit for one chat (https://core.telegram.org/bots/faq)."""
    group_sends_per_minute: float = Field(default=20.0, gt=0)
    """Telegram's limit for one group (https://core.telegram.org/bots/faq)."""
    allowed_chat_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    webhook_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    webhook_path: str = Field(default="/telegram/webhook", pattern=r"^/[A-Za-z0-9_\-./]*$")
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8081, ge=0, le=65535)
    webhook_secret: SecretStr | None = None
    dashboard_link_secret: SecretStr | None = Field(default=None, min_length=MIN_SECRET_LENGTH)
    dashboard_link_ttl_s: float = Field(default=DEFAULT_TTL.total_seconds(), gt=0, le=86_400)
    dashboard_public_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    member_count_time: time = time(0, 5)

    @field_validator("allowed_chat_ids", mode="before")
    @classmethod
    def _split_chat_ids(cls, value: object) -> object:
        return _int_list(value)

    @field_validator("webhook_url", "dashboard_link_secret", "dashboard_public_url", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return value or None

    def require_bot_token(self) -> SecretStr:
        """The bot token; raises ConfigurationError when ``BOT_TOKEN`` is unset or blank."""
        if self.bot_token is None or not self.bot_token.get_secret_value().strip():
            raise ConfigurationError(
                "BOT_TOKEN is not set: create a bot with @BotFather and export BOT_TOKEN=<token>"
            )
        return self.bot_token

    def require_webhook(self) -> WebhookConfig | None:
        """The webhook mode's settings when ``WEBHOOK_URL`` is set, None for long polling.

        Raises ConfigurationError (which never shows the secret) when ``WEBHOOK_SECRET`` is
        missing, shorter than 16 characters or not made of ``A-Za-z0-9_-``.
        """
        if self.webhook_url is None:
            return None
        secret = self.webhook_secret
        if secret is None or not WEBHOOK_SECRET_PATTERN.fullmatch(secret.get_secret_value()):
            raise ConfigurationError(
                "WEBHOOK_URL is set, so WEBHOOK_SECRET must be too: 16 to 256 characters of "
                "A-Z, a-z, 0-9, _ and - (e.g. python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))')"
            )
        return WebhookConfig(
            url=self.webhook_url,
            path=self.webhook_path,
            host=self.webhook_host,
            port=self.webhook_port,
            secret=secret,
        )

    def allowed_chats(self) -> frozenset[int] | None:
        """The chats whose updates are handled, None for all: ``ALLOWED_CHAT_IDS`` with
        ``ADMIN_CHAT_IDS`` and the admins' private chats (a private chat's id is its user's),
        so the allow-list cannot lock the admins out."""
        if not self.allowed_chat_ids:
            return None
        return frozenset(self.allowed_chat_ids + self.admin_chat_ids + self.admin_user_ids)
