"""How ingest settles a message it could not store: dead letter, or redelivery later.

A message that fails validation, or that the database refuses for good (a value out of
range: SQLSTATE classes 22 and 23, see ``chat_store.refuses_the_data``), is published as a
:class:`DeadLetter` on ``subjects.dead_letter("ingest")`` and terminated, so the consumer
goes on. A write that failed for a reason that may pass (database unreachable or shutting
down, a snapshot whose video another replica has not committed yet) is nak'ed with a delay,
until ``max_deliveries`` is reached: then it is dead-lettered too.
"""

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import NoReturn, TypeVar

import structlog
from faststream.exceptions import NackMessage, RejectMessage
from faststream.nats import NatsBroker
from faststream.nats.message import NatsMessage
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, SQLAlchemyError

from tally.chatstore.write.writer import refuses_the_data
from tally.contracts.events import Event, describe
from tally.contracts.subjects import Subjects
from tally.infra.errors import TallyError
from tally.ingest.config import IngestSettings
from tally.ingest.metrics import IngestMetrics, Kind
from tally.runtime.deadletter import ReasonKind, reason_kind, send_dead_letter

E = TypeVar("E", bound=Event)
T = TypeVar("T")

SERVICE = "ingest"


class NotYetWritableError(TallyError):
    """A write that may succeed when the message comes back (what it needs is on its way)."""


RETRYABLE = (
    OperationalError,
    InterfaceError,
    IntegrityError,
    OSError,
    TimeoutError,
    NotYetWritableError,
)
"""Failures that may pass: connection lost or refused, a foreign key or a question row not
there yet, dataset versions not stored by JetStream."""

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Delivery:
    """Parsing and writing with the dead-letter and redelivery rules above."""

    settings: IngestSettings
    metrics: IngestMetrics
    subjects: Subjects

    async def parse(
        self, model: type[E], message: NatsMessage, broker: NatsBroker, kind: Kind
    ) -> E:
        """``message``'s body as ``model``; raises RejectMessage after dead-lettering it."""
        try:
            return model.model_validate_json(message.body)
        except ValidationError as error:
            why = describe(error)
            await self.dead_letter(message, broker, kind, reason=why, why=reason_kind(error))
            raise RejectMessage from error

    async def write(
        self, operation: Awaitable[T], message: NatsMessage, broker: NatsBroker, kind: Kind
    ) -> T:
        """Await ``operation``; raises NackMessage (retry later) or RejectMessage (dead letter)."""
        try:
            return await operation
        except RETRYABLE as error:
            await self._retry_later(error, message, broker, kind)
        except SQLAlchemyError as error:
            if not refuses_the_data(error):  # e.g. "the database system is shutting down"
                await self._retry_later(error, message, broker, kind)
            reason = f"database refused it: {error}"
            await self.dead_letter(message, broker, kind, reason=reason, why="database")
            raise RejectMessage from error

    async def _retry_later(
        self, error: Exception, message: NatsMessage, broker: NatsBroker, kind: Kind
    ) -> NoReturn:
        """Raise NackMessage (redelivery after ``retry_delay_s``), or, past ``max_deliveries``,
        dead-letter ``message`` and raise RejectMessage."""
        if message.raw_message.metadata.num_delivered < self.settings.max_deliveries:
            log.warning("write failed, will retry", kind=kind, error=str(error).splitlines()[0])
            self.metrics.handled(kind, "retried")
            raise NackMessage(delay=self.settings.retry_delay_s) from error
        reason = f"gave up: {error}"
        await self.dead_letter(message, broker, kind, reason=reason, why="retries_exhausted")
        raise RejectMessage from error

    async def dead_letter(
        self,
        message: NatsMessage,
        broker: NatsBroker,
        kind: Kind,
        *,
        reason: str,
        why: ReasonKind,
    ) -> None:
        """Publish ``message`` with ``reason`` (of kind ``why``) to the dead-letter subject."""
        await send_dead_letter(
            broker, self.subjects, service=SERVICE, message=message, reason=reason, kind=why
        )
        self.metrics.handled(kind, "dead_letter")
