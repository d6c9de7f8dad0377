"""Request/reply with another service over NATS, as the gateway's handlers need it."""

from typing import TypeVar

import nats.errors
import structlog
from faststream.nats import NatsBroker
from opentelemetry import trace
from pydantic import BaseModel, ValidationError

R = TypeVar("R", bound=BaseModel)
tracer = trace.get_tracer("tally.gateway")
log = structlog.get_logger(__name__)


async def request_reply(
    broker: NatsBroker,
    request: BaseModel,
    subject: str,
    reply: type[R],
    *,
    timeout_s: float,
    span: str,
    attributes: dict[str, str],
) -> R | None:
    """``request`` on ``subject`` inside span ``span`` (with ``attributes``); the reply as a
    ``reply`` model, or None (logged) when none came within ``timeout_s`` seconds, nobody
    listens (NATS's "no responders") or the reply is not a ``reply``."""
    with tracer.start_as_current_span(span, attributes=attributes):
        try:
            response = await broker.request(request, subject, timeout=timeout_s)
            return reply.model_validate_json(response.body)
        except (TimeoutError, nats.errors.Error, ValidationError) as error:
            log.warning(f"{span} failed", subject=subject, error=repr(error)[:300], **attributes)
            return None
