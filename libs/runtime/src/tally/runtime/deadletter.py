"""Messages a consumer cannot read go to its dead-letter subject; consumption goes on.

Dead letters land on ``{prefix}.dlq.{service}`` (stream DEAD_LETTERS), carrying the original
subject, payload and headers, so an operator can inspect and replay them (``tally dlq``:
``payload`` published back to ``subject`` with the original headers). Each one is counted in
``tally_dead_letters_total{service, reason_kind}`` (see docs/metrics.md).
"""

import contextlib
import json
from typing import Literal, get_args

import structlog
from faststream import ExceptionMiddleware
from faststream.nats import NatsBroker
from faststream.nats.annotations import NatsBroker as BrokerDep
from faststream.nats.annotations import NatsMessage
from prometheus_client import CollectorRegistry, Counter
from pydantic import ValidationError

from tally.contracts.events import DeadLetter, describe
from tally.contracts.subjects import Subjects

log = structlog.get_logger(__name__)
MAX_PAYLOAD_CHARS = 256 * 1024
"""Characters of the original payload kept in a DeadLetter (the original stays in its stream
when it came from one); see also :data:`MAX_PAYLOAD_BYTES`."""
MAX_PAYLOAD_BYTES = 512 * 1024
"""Bytes the payload may take in the DeadLetter's JSON (UTF-8, escapes included): half of
NATS's default 1 MiB ``max_payload``, so a letter about a message of any size can be
published. 256 Ki characters of 4-byte emoji, or of escaped control characters, would not
fit."""
MAX_HEADERS = 64
MAX_HEADER_CHARS = 1024
"""Headers kept in a DeadLetter, and characters of each value."""

ReasonKind = Literal["decode", "validation", "database", "retries_exhausted"]
"""Why a message was dead-lettered: ``decode`` (not JSON), ``validation`` (JSON that is not
the event), ``database`` (the database refused a value for good), ``retries_exhausted``
(a write that may pass failed ``max_deliveries`` times)."""

DEAD_LETTERS = Counter(
    "tally_dead_letters",
    "Messages sent to a dead-letter subject, by the service that gave up and why.",
    ["service", "reason_kind"],
    registry=None,
)
"""One counter per process (one service per process); registered in the service's registry
by :func:`register_metrics`."""


def register_metrics(registry: CollectorRegistry, service: str) -> None:
    """Serve ``tally_dead_letters_total`` from ``registry`` (once; later calls do nothing),
    with a 0 for each of ``service``'s reason kinds."""
    for kind in get_args(ReasonKind):
        DEAD_LETTERS.labels(service=service, reason_kind=kind)
    with contextlib.suppress(ValueError):  # already registered there
        registry.register(DEAD_LETTERS)


def reason_kind(error: ValidationError) -> ReasonKind:
    """``decode`` when the body was not JSON at all, else ``validation``.

    A body that is not JSON reaches the model either as pydantic's own ``json_invalid``
    (``model_validate_json``) or, from FastStream, which hands undecodable bodies on as they
    are, as text or bytes where the whole event should be (``model_type`` at the root or at
    the handler's argument).
    """
    for item in error.errors():
        if item["type"] in {"json_invalid", "json_type"}:
            return "decode"
        whole = item["type"] == "model_type" and len(item["loc"]) <= 1
        if whole and isinstance(item["input"], str | bytes):
            return "decode"
    return "validation"


def _json_bytes(text: str) -> int:
    return len(json.dumps(text, ensure_ascii=False).encode("utf-8", errors="replace"))


def clip_payload(text: str, max_bytes: int = MAX_PAYLOAD_BYTES) -> str:
    """The longest prefix of ``text`` (at most :data:`MAX_PAYLOAD_CHARS` characters) whose
    JSON string encoding takes at most ``max_bytes`` bytes (binary search, O(n log n))."""
    text = text[:MAX_PAYLOAD_CHARS]
    if _json_bytes(text) <= max_bytes:
        return text
    fits, too_long = 0, len(text)
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        fits, too_long = (
            (middle, too_long) if _json_bytes(text[:middle]) <= max_bytes else (fits, middle)
        )
    return text[:fits]


def fitted(letter: DeadLetter) -> DeadLetter:
    """``letter`` with its payload clipped by :func:`clip_payload` and at most
    :data:`MAX_HEADERS` headers of :data:`MAX_HEADER_CHARS` characters: small enough to
    publish whatever the original message was."""
    headers = dict(list(letter.headers.items())[:MAX_HEADERS])
    return letter.model_copy(
        update={
            "payload": clip_payload(letter.payload),
            "reason": letter.reason[:4000],
            "headers": {
                key[:MAX_HEADER_CHARS]: value[:MAX_HEADER_CHARS] for key, value in headers.items()
            },
        }
    )


async def publish_dead_letter(
    broker: NatsBroker, subjects: Subjects, letter: DeadLetter, *, kind: ReasonKind
) -> None:
    """Publish ``letter`` (:func:`fitted`) to its service's dead-letter subject, wait for
    JetStream to store it (raises when it cannot), and count it under ``kind``."""
    letter = fitted(letter)
    log.warning("dead letter", subject=letter.subject, reason=letter.reason[:200], kind=kind)
    await broker.publish(
        letter, subjects.dead_letter(letter.service), stream=subjects.dead_letter_stream
    )
    DEAD_LETTERS.labels(service=letter.service, reason_kind=kind).inc()


async def send_dead_letter(
    broker: NatsBroker,
    subjects: Subjects,
    *,
    service: str,
    message: NatsMessage,
    reason: str,
    kind: ReasonKind,
) -> None:
    """Publish ``message`` as a :class:`DeadLetter` of ``service`` with ``reason`` (see
    :func:`publish_dead_letter`)."""
    letter = DeadLetter(
        service=service,
        subject=message.raw_message.subject,
        reason=reason,
        payload=message.body.decode("utf-8", errors="replace"),
        headers={key: str(value) for key, value in (message.headers or {}).items()},
    )
    await publish_dead_letter(broker, subjects, letter, kind=kind)


def dead_letter_middleware(subjects: Subjects, service: str) -> ExceptionMiddleware:
    """A FastStream middleware: a message that fails validation (a ``ValidationError``, e.g.
    malformed JSON or a missing field) becomes a ``DeadLetter`` of ``service``."""
    middleware = ExceptionMiddleware()

    @middleware.add_handler(ValidationError)
    async def to_dead_letter(
        error: ValidationError, message: NatsMessage, broker: BrokerDep
    ) -> None:
        reason = f"invalid message ({error.error_count()} errors): {describe(error)}"
        await send_dead_letter(
            broker,
            subjects,
            service=service,
            message=message,
            reason=reason,
            kind=reason_kind(error),
        )

    return middleware
