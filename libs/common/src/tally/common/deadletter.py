"""Decode a bus message into its model, or send it to the dead-letter subject with the reason.

Dead letters land on ``{prefix}.dlq.{service}`` (stream DEAD_LETTERS), carrying the original
subject, payload and headers, so an operator can inspect them with the NATS CLI and replay
them by publishing ``payload`` back to ``subject``.
"""

from typing import TypeVar

import structlog
from faststream.nats import NatsBroker, NatsMessage
from pydantic import BaseModel, ValidationError

from tally.common.events import DeadLetter
from tally.common.subjects import Subjects

M = TypeVar("M", bound=BaseModel)
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


async def decode_or_dead_letter(
    model: type[M],
    message: NatsMessage,
    *,
    broker: NatsBroker,
    subjects: Subjects,
    service: str,
) -> M | None:
    """``model`` parsed from the message body, or None after dead-lettering an invalid one."""
    try:
        return model.model_validate_json(message.body)
    except ValidationError as error:
        reason = f"invalid {model.__name__}: {error.error_count()} errors: {error.errors()[:3]}"
        await send_dead_letter(broker, subjects, service=service, message=message, reason=reason)
        return None
