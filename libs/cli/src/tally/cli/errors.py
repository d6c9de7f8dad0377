"""The ``tally`` command's own errors (branches of :class:`tally.infra.errors.TallyError`)."""

import logging

from tally.infra.errors import UserFacingError


class StackNotRunningError(UserFacingError):
    """No running Tally stack was found (no NATS_URL and no `tally up` state)."""


async def quiet_client_errors(error: Exception) -> None:
    """nats-py's ``error_cb`` for the command's connections. A command says in one sentence
    what failed (:class:`StackNotRunningError`, a BrokerUnavailableError); nats-py's default
    callback would first print each refused server's traceback at ERROR, so it is logged at
    DEBUG here instead."""
    logging.getLogger("tally.cli").debug("NATS client error: %r", error)
