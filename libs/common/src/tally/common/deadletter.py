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
MAX_PAYLOAD_CHARS = 256 * 1024
"""Characters of the original payload kept in a DeadLetter (the original stays in its stream
when it came from one)."""


async def send_dead_letter(
    broker: NatsBroker, subjects: Subjects, *, service: str, message: NatsMessage, reason: str
) -> None:
    """Publish ``message`` as a :class:`DeadLetter` of ``service`` with ``reason``, and wait
    for JetStream to confirm it stored the letter (raises when it cannot)."""
    letter = DeadLetter(
        service=service,
        subject=message.raw_message.subject,
        reason=reason[:4000],
        payload=message.body.decode("utf-8", errors="replace")[:MAX_PAYLOAD_CHARS],
        headers={key: str(value) for key, value in (message.headers or {}).items()},
    )
    log.warning("dead letter", subject=letter.subject, reason=letter.reason[:200])
    await broker.publish(letter, subjects.dead_letter(service), stream=subjects.dead_letter_stream)


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
