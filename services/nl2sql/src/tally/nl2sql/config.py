"""nl2sql settings."""

from tally.common.settings import CommonSettings


class Nl2sqlSettings(CommonSettings):
    """The settings every service shares; the built-in parser needs nothing of its own."""
