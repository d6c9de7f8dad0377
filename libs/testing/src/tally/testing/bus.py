"""What a broker under FastStream's ``TestNatsBroker`` publishes, recorded by subject."""

from dataclasses import dataclass, field
from typing import Any

from faststream.nats import JStream, NatsBroker
from faststream.nats.annotations import NatsMessage


@dataclass
class Received:
    """What arrived on one subject, in order: each body (decoded JSON) and its headers."""

    bodies: list[Any] = field(default_factory=list)
    headers: list[dict[str, Any]] = field(default_factory=list)


def listen(broker: NatsBroker, subject: str, *, stream: str | None = None) -> Received:
    """Record what ``broker`` publishes on ``subject`` (to JetStream ``stream`` when given:
    the in-memory broker delivers a stream publish only to that stream's subscribers). Call
    before the test broker starts."""
    received = Received()
    jstream = JStream(stream, declare=False) if stream else None

    @broker.subscriber(subject, stream=jstream)
    async def record(body: Any, message: NatsMessage) -> None:
        received.bodies.append(body)
        received.headers.append(dict(message.headers))

    return received
