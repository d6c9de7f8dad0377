"""The chat events consumer: a durable JetStream pull consumer on CHAT_EVENTS, in batches.

Each fetch (up to ``chat_batch_size`` messages) is written by :class:`ChatWriter` in one
transaction and acknowledged after it commits, inside one span linked to each event's trace.
A payload that is not a valid chat event becomes a :class:`DeadLetter` on
``subjects.dead_letter("ingest")`` and is acknowledged with the batch, so the consumer goes
on. When the database fails in a way that may pass, the whole batch is nak'ed with
``retry_delay_s`` and redelivered, however long it takes (the writes are idempotent, so
nothing is lost or counted twice); when it refuses a value of an event, that event is
dead-lettered and the rest are stored. Settings that changed are put in the chat settings
bucket after commit. JetStream lets two fetches be unacknowledged at a time.

Events are applied in stream order, because edits, deletions and reactions do not commute
with the messages they change. A fetch that would overtake older unacknowledged events (a
process killed mid-batch leaves its fetch to be redelivered after the consumer's AckWait,
while the next fetch hands out newer ones) is nak'ed with ``reorder_delay_s`` until those
older events are stored: see :func:`overtakes`.
"""

from typing import Annotated

import nats.errors
from faststream.exceptions import NackMessage
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy
from faststream.nats import JStream, NatsRouter, PullSub
from faststream.nats.annotations import JsClient, NatsBroker
from faststream.params.no_cast import NoCastField
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig
from sqlalchemy.exc import SQLAlchemyError

from tally.common.deadletter import MAX_PAYLOAD_CHARS, ReasonKind, publish_dead_letter
from tally.common.events import DeadLetter
from tally.common.subjects import Subjects
from tally.common.telemetry import batch_span
from tally.ingest.chat_store import ChatWriter
from tally.ingest.config import IngestSettings
from tally.ingest.delivery import SERVICE
from tally.ingest.domain.chat_batch import parse_chat_events
from tally.ingest.metrics import IngestMetrics
from tally.ingest.settings_bucket import publish_settings

CHATS_DURABLE = "ingest-chats"
Batch = Annotated[list[Msg], NoCastField()]
"""The raw JetStream messages of one fetch (bodies are validated once, by pydantic)."""


async def overtakes(js: JsClient, stream: str, batch: list[Msg]) -> bool:
    """True when some event older than ``batch`` (a lower stream sequence) is delivered but
    not acknowledged: the consumer's ack floor (every sequence up to it acknowledged) is
    below the batch's first sequence minus one. One consumer info request (about 1 ms)."""
    info = await js.consumer_info(stream, CHATS_DURABLE)
    first = min(message.metadata.sequence.stream for message in batch)
    return int(info.ack_floor.stream_seq) + 1 < first


async def raw_messages(message: StreamMessage[list[Msg]]) -> list[Msg]:
    """FastStream decoder: hand the fetched messages over undecoded."""
    return message.raw_message


def dead_letter(message: Msg, reason: str) -> DeadLetter:
    """``message`` (subject, payload, headers) as a DeadLetter of ingest, with ``reason``."""
    return DeadLetter(
        service=SERVICE,
        subject=message.subject,
        reason=reason[:4000],
        payload=message.data.decode("utf-8", errors="replace")[:MAX_PAYLOAD_CHARS],
        headers={key: str(value) for key, value in (message.headers or {}).items()},
    )


def create_chat_router(
    settings: IngestSettings, *, writer: ChatWriter, metrics: IngestMetrics
) -> NatsRouter:
    """A router with the CHAT_EVENTS consumer (durable ``ingest-chats``) writing via ``writer``."""
    subjects = Subjects(settings.subject_prefix)
    router = NatsRouter()
    pull = PullSub(batch_size=settings.chat_batch_size, timeout=0.5, batch=True)

    @router.subscriber(
        subjects.chat_events_all,
        stream=JStream(subjects.chat_events_stream, declare=False),
        durable=CHATS_DURABLE,
        pull_sub=pull,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        config=ConsumerConfig(max_ack_pending=2 * settings.chat_batch_size),
        decoder=raw_messages,
    )
    async def store_chat_events(batch: Batch, broker: NatsBroker, js: JsClient) -> None:
        with batch_span("ingest chat_events batch", (message.headers for message in batch)):
            await store(batch, broker, js)

    async def store(batch: list[Msg], broker: NatsBroker, js: JsClient) -> None:
        if await overtakes(js, subjects.chat_events_stream, batch):
            metrics.handled("chat_event", "reordered", len(batch))
            raise NackMessage(delay=settings.reorder_delay_s)
        valid, invalid = parse_chat_events([message.data for message in batch])
        try:  # write_isolating raises only failures that may pass
            with metrics.chat_batch_seconds.time():
                written, refused = await writer.write_isolating([event for _, event in valid])
            await publish_settings(js, subjects, written.settings)
        except (SQLAlchemyError, OSError, TimeoutError, nats.errors.Error) as error:
            metrics.handled("chat_event", "retried", len(batch))
            raise NackMessage(delay=settings.retry_delay_s) from error
        letters: list[tuple[int, str, ReasonKind]] = [
            *((index, reason, "validation") for index, reason in invalid),
            *((valid[index][0], reason, "database") for index, reason in refused),
        ]
        for index, reason, kind in letters:
            letter = dead_letter(batch[index], reason)
            await publish_dead_letter(broker, subjects, letter, kind=kind)
        metrics.handled("chat_event", "stored", written.events)
        metrics.handled("chat_event", "dead_letter", len(letters))

    return router
