"""Bus messages the gateway cannot read go to its dead-letter subject, and consumption goes on."""

from faststream import ExceptionMiddleware
from faststream.nats.annotations import NatsBroker, NatsMessage
from pydantic import ValidationError
from tally.common.deadletter import send_dead_letter
from tally.common.subjects import Subjects

SERVICE = "gateway"


def dead_letter_middleware(subjects: Subjects) -> ExceptionMiddleware:
    """A FastStream middleware: a ValidationError becomes a ``DeadLetter`` on ``dlq.gateway``."""
    middleware = ExceptionMiddleware()

    @middleware.add_handler(ValidationError)
    async def to_dead_letter(
        error: ValidationError, message: NatsMessage, broker: NatsBroker
    ) -> None:
        reason = f"invalid message ({error.error_count()} errors): {error.errors()[0]['msg']}"
        await send_dead_letter(broker, subjects, service=SERVICE, message=message, reason=reason)

    return middleware
