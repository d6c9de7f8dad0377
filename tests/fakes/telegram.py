"""The fake Telegram Bot API server of the tests; it lives in ``tally.cli.fake_bot_api`` so that
``tally loadtest`` can run it too."""

from tally.cli.fake_bot_api import (
    DEFAULT_TOKEN,
    ContentType,
    FakeTelegram,
    Json,
    MemberChange,
    Press,
    SentMessage,
)

__all__ = [
    "DEFAULT_TOKEN",
    "ContentType",
    "FakeTelegram",
    "Json",
    "MemberChange",
    "Press",
    "SentMessage",
]
