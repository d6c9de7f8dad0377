"""The gateway's settings: the common ones, the Telegram ones and its own."""

from pydantic import Field, SecretStr

from tally.common.errors import ConfigurationError
from tally.common.settings import CommonSettings, TelegramSettings


class GatewaySettings(CommonSettings, TelegramSettings):
    """Settings of one gateway process (``BOT_TOKEN``, ``TELEGRAM_API_BASE``, ``ADMIN_CHAT_IDS``).

    ``throttle_interval_s`` is the least time between two messages of one user that are both
    handled (seconds); ``seen_users_max`` bounds the first-contact memory (user ids).
    """

    throttle_interval_s: float = Field(default=0.5, ge=0)
    seen_users_max: int = Field(default=10_000, ge=1)
    reply_concurrency: int = Field(default=64, ge=1)
    """Answers being sent to Telegram at once. Each send is an HTTP round trip; one at a time,
    a round trip of 50 ms would cap the bot at 20 answers/s (BENCHMARKS.md, "Load")."""
    group_sends_per_second: float = Field(default=1.0, gt=0)
    """Telegram's limit for one chat (https://core.telegram.org/bots/faq)."""
    group_sends_per_minute: float = Field(default=20.0, gt=0)
    """Telegram's limit for one group (https://core.telegram.org/bots/faq)."""

    def require_bot_token(self) -> SecretStr:
        """The bot token; raises ConfigurationError when ``BOT_TOKEN`` is unset or blank."""
        if self.bot_token is None or not self.bot_token.get_secret_value().strip():
            raise ConfigurationError(
                "BOT_TOKEN is not set: create a bot with @BotFather and export BOT_TOKEN=<token>"
            )
        return self.bot_token
