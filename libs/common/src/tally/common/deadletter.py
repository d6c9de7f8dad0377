"""Messages a consumer cannot read go to its dead-letter subject; consumption goes on.

Dead letters land on ``{prefix}.dlq.{service}`` (stream DEAD_LETTERS), carrying the original
subject, payload and headers, so an operator can inspect them with the NATS CLI and replay
them by publishing ``payload`` back to ``subject``.
"""

import structlog
from faststream import ExceptionMiddleware
from faststream.nats import NatsBroker
from faststream.nats.annotations import NatsBroker as BrokerDep
from faststream.nats.annotations import NatsMessage
from pydantic import ValidationError

from tally.common.events import DeadLetter
from tally.common.subjects import Subjects

log = structlog.get_logger(__name__)


async def send_dead_letter(
    broker: NatsBroker, subjects: Subjects, *, service: str, message: NatsMessage, reason: str
) -> None:
    """Publish ``message`` as a :class:`DeadLetter` of ``service`` with ``reason``."""
    letter = DeadLetter(
        service=service,
        subject=message.raw_message.subject,
        reason=reason[:2000],
        payload=message.body.decode("utf-8", errors="replace"),
        headers={key: str(value) for key, value in (message.headers or {}).items()},
    )
    log.warning("dead letter", subject=letter.subject, reason=letter.reason[:200])
    await broker.publish(letter, subjects.dead_letter(service))


def dead_letter_middleware(subjects: Subjects, service: str) -> ExceptionMiddleware:
    """A FastStream middleware: a message that fails validation (a ``ValidationError``, e.g.
    malformed JSON or a missing field) becomes a ``DeadLetter`` of ``service``."""
    middleware = ExceptionMiddleware()

    @middleware.add_handler(ValidationError)
    async def to_dead_letter(
        error: ValidationError, message: NatsMessage, broker: BrokerDep
    ) -> None:
        reason = f"invalid message ({error.error_count()} errors): {error.errors()[0]['msg']}"
        await send_dead_letter(broker, subjects, service=service, message=message, reason=reason)

    return middleware
