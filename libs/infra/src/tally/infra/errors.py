"""One error tree for Tally, rooted in :class:`TallyError`."""


class TallyError(Exception):
    """Base of every error Tally raises on purpose."""


class UserFacingError(TallyError):
    """An error whose message is fit to show the person who asked."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class ConfigurationError(TallyError):
    """A setting is missing or invalid; the process cannot start."""
