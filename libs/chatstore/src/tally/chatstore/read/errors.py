"""The one error the chat statistics raise on purpose."""

from tally.infra.errors import UserFacingError


class StatsRequestError(UserFacingError):
    """A request the statistics cannot answer as asked: a reversed or too long period, an
    unknown time zone, a metric and bucket that do not go together, a bad page or sort."""
