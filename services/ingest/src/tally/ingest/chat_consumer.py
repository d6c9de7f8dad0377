"""The chat events consumer: a durable JetStream pull consumer on CHAT_EVENTS, in batches.

Each fetch (up to ``chat_batch_size`` messages) is written by :class:`ChatWriter` in one
transaction and acknowledged after it commits, inside one span linked to each event's trace.
A payload that is not a valid chat event becomes a :class:`DeadLetter` on
``subjects.dead_letter("ingest")`` and is acknowledged with the batch, so the consumer goes
on. When the database fails in a way that may pass, the whole batch is nak'ed with
``retry_delay_s`` and redelivered, however long it takes (the writes are idempotent, so
nothing is lost or counted twice); when it refuses a value of an event, that event is
dead-lettered and the rest are stored. Settings that changed are put in the chat settings
bucket after commit; text the chat no longer lets ingest store is then removed from the
stream too (:class:`~tally.chatstore.write.stream_purge.TextEraser`). JetStream lets two fetches be
unacknowledged at a time.

Events are applied in stream order, because edits, deletions and reactions do not commute
with the messages they change. A fetch that would overtake older unacknowledged events (a
process killed mid-batch leaves its fetch to be redelivered after the consumer's AckWait,
while the next fetch hands out newer ones) is nak'ed with ``reorder_delay_s`` until those
older events are stored, and events already stored are acknowledged without being applied
again: see :class:`StreamOrder` and ``domain.stream_order``.
"""

from typing import Annotated

import nats.errors
import structlog
from faststream.exceptions import NackMessage
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy
from faststream.nats import JStream, NatsRouter, PullSub
from faststream.nats.annotations import JsClient, NatsBroker
from faststream.params.no_cast import NoCastField
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig
from sqlalchemy.exc import SQLAlchemyError

from tally.chatstore.write.batch import parse_chat_events
from tally.chatstore.write.lease import ChatLease
from tally.chatstore.write.settings_bucket import publish_settings
from tally.chatstore.write.stream_purge import TextEraser
from tally.chatstore.write.writer import ChatWriter
from tally.contracts.events import DeadLetter
from tally.contracts.subjects import CHATS_DURABLE, Subjects
from tally.infra.telemetry import batch_span
from tally.ingest.config import IngestSettings
from tally.ingest.delivery import SERVICE
from tally.ingest.domain.stream_order import Split, first_newer, split_in_order
from tally.ingest.metrics import IngestMetrics
from tally.runtime.deadletter import MAX_PAYLOAD_CHARS, ReasonKind, publish_dead_letter

log = structlog.get_logger(__name__)
Batch = Annotated[list[Msg], NoCastField()]
"""The raw JetStream messages of one fetch (bodies are validated once, by pydantic)."""


def _sequence(message: Msg) -> int:
    return int(message.metadata.sequence.stream)


class StreamOrder:
    """Keeps one process's chat events in stream order (see domain.stream_order).

    ``committed`` is the highest sequence this process stored; JetStream's ack floor may lag
    behind it while acknowledgements are in flight, so the floor used is the higher of the
    two, and JetStream is asked only when a fetch does not simply continue it.
    """

    def __init__(self, js: JsClient, stream: str) -> None:
        self.js, self.stream, self.committed = js, stream, 0

    async def split(self, batch: list[Msg]) -> Split:
        """Split ``batch``: one consumer info request (about 1 ms) unless the fetch continues
        the events this process stored. When nothing older than the fetch is outstanding, a
        gap in the sequences (messages deleted from the stream) is stepped over."""
        sequences = [_sequence(message) for message in batch]
        if any(
            seq <= self.committed and message.metadata.num_delivered == 1
            for seq, message in zip(sequences, batch, strict=True)
        ):
            self.committed = 0  # first deliveries below it: the stream was made anew
        floor = self.committed
        first = first_newer(sequences, floor)
        if first is None or first == floor + 1:
            return split_in_order(sequences, floor)
        info = await self.js.consumer_info(self.stream, CHATS_DURABLE)
        floor = max(floor, int(info.ack_floor.stream_seq))
        split = split_in_order(sequences, floor)
        first = first_newer(sequences, floor)
        if not split.ready and first is not None and info.num_ack_pending <= len(batch):
            split = split_in_order(sequences, first - 1)
        return split

    def stored(self, batch: list[Msg]) -> None:
        """Record that ``batch`` (its ready part) is committed."""
        self.committed = max([self.committed, *(_sequence(message) for message in batch)])


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
    settings: IngestSettings,
    *,
    writer: ChatWriter,
    metrics: IngestMetrics,
    lease: ChatLease | None = None,
) -> NatsRouter:
    """A router with the CHAT_EVENTS consumer (durable ``ingest-chats``) writing via ``writer``;
    with ``lease``, the consumer runs only while ``lease`` is held (see chat_lease)."""
    subjects = Subjects(settings.subject_prefix)
    router = NatsRouter()
    pull = PullSub(batch_size=settings.chat_batch_size, timeout=0.5, batch=True)
    orders: dict[int, StreamOrder] = {}
    eraser = TextEraser(subjects)

    subscriber = router.subscriber(
        subjects.chat_events_all,
        stream=JStream(subjects.chat_events_stream, declare=False),
        durable=CHATS_DURABLE,
        pull_sub=pull,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        config=ConsumerConfig(max_ack_pending=2 * settings.chat_batch_size),
        decoder=raw_messages,
    )
    if lease is not None:
        lease.subscriber = subscriber

    @subscriber
    async def store_chat_events(batch: Batch, broker: NatsBroker, js: JsClient) -> None:
        with batch_span("ingest chat_events batch", (message.headers for message in batch)):
            await store(batch, broker, js)

    async def store(fetched: list[Msg], broker: NatsBroker, js: JsClient) -> None:
        order = orders.setdefault(id(js), StreamOrder(js, subjects.chat_events_stream))
        split = await order.split(fetched)
        for index in split.stale:
            await fetched[index].ack()
        for index in split.later:
            await fetched[index].nak(delay=settings.reorder_delay_s)
        metrics.handled("chat_event", "duplicate", len(split.stale))
        metrics.handled("chat_event", "reordered", len(split.later))
        batch = [fetched[index] for index in split.ready]
        if not batch:
            return
        messages = [(message.subject, message.data) for message in batch]
        valid, invalid = parse_chat_events(messages, subjects)
        try:  # write_isolating raises only failures that may pass
            with metrics.chat_batch_seconds.time():
                written, refused = await writer.write_isolating([event for _, event in valid])
            await publish_settings(js, subjects, written.settings)
        except (SQLAlchemyError, OSError, TimeoutError, nats.errors.Error) as error:
            log.warning("chat batch failed, will retry", error=str(error).splitlines()[0][:300])
            metrics.handled("chat_event", "retried", len(batch))
            raise NackMessage(delay=settings.retry_delay_s) from error
        letters: list[tuple[int, str, ReasonKind]] = [
            *((index, reason, "validation") for index, reason in invalid),
            *((valid[index][0], reason, "database") for index, reason in refused),
        ]
        for index, reason, kind in letters:
            letter = dead_letter(batch[index], reason)
            await publish_dead_letter(broker, subjects, letter, kind=kind)
        order.stored(batch)
        await forget_text(
            js,
            [batch[valid[index][0]] for index in written.text_dropped],
            {chat_id: batch[valid[index][0]] for chat_id, index in written.text_off.items()},
        )
        metrics.handled("chat_event", "stored", written.events)
        metrics.handled("chat_event", "dead_letter", len(letters))

    async def forget_text(js: JsClient, dropped: list[Msg], turned_off: dict[int, Msg]) -> None:
        """After commit: purge each chat's text events older than the SettingsChanged that
        turned its text storage off, and delete events whose text was not stored."""
        if dropped or turned_off:
            await eraser.erase(
                js,
                chats={chat_id: _sequence(m) for chat_id, m in turned_off.items()},
                sequences=[_sequence(message) for message in dropped],
            )

    return router
