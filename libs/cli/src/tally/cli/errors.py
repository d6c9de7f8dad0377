"""The ``tally`` command's own errors (branches of :class:`tally.infra.errors.TallyError`)."""

from tally.infra.errors import UserFacingError


class StackNotRunningError(UserFacingError):
    """No running Tally stack was found (no NATS_URL and no `tally up` state)."""
