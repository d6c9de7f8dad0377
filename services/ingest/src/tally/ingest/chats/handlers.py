"""The chat events consumer: a durable JetStream pull consumer on CHAT_EVENTS, in batches.

Each fetch (up to ``chat_batch_size`` messages) is written by :class:`ChatWriter`, its chats
split into ``chat_write_connections`` concurrent transactions, and acknowledged after they all
commit, inside one span linked to each event's trace.
A payload that is not a valid chat event becomes a :class:`DeadLetter` on
``subjects.dead_letter("ingest")`` and is acknowledged with the batch, so the consumer goes
on. When the database fails in a way that may pass, the whole batch is nak'ed with
``retry_delay_s`` and redelivered, however long it takes (the writes are idempotent, so
nothing is lost or counted twice); when it refuses a value of an event, that event is
dead-lettered and the rest are stored. Settings that changed are put in the chat settings
bucket after commit; text the chat no longer lets ingest store is then removed from the
stream too (:class:`~tally.chatstore.write.stream_purge.TextEraser`). JetStream lets two fetches be
unacknowledged at a time.

Two fetches are in hand at a time (:class:`ChatPipeline`): the handler parses its fetch, waits
until the previous one is settled (committed and acknowledged, or nak'ed), then starts writing
its own in a task and returns, so FastStream fetches the next while PostgreSQL commits. Acks
are the handler's own (FastStream's ``AckPolicy.MANUAL``), after commit as before; a batch is
split in stream order only once the one before it is settled, so a failed batch makes the next
wait, as when they ran one after the other. :class:`ChatConsumer` stops the subscriber and then
waits for the batch in flight (the lease switches it; the app stops it before the broker).

Events are applied in stream order, because edits, deletions and reactions do not commute
with the messages they change. A fetch that would overtake older unacknowledged events (a
process killed mid-batch leaves its fetch to be redelivered after the consumer's AckWait,
while the next fetch hands out newer ones) is nak'ed with ``reorder_delay_s`` until those
older events are stored, and events already stored are acknowledged without being applied
again: see :class:`~tally.ingest.chats.order.StreamOrder` and ``domain.stream_order``.
"""

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, Final

import nats.errors
import structlog
from faststream import AckPolicy, Context, ContextRepo, Depends
from faststream.message import StreamMessage
from faststream.nats import JStream, NatsRouter, PullSub
from faststream.nats.annotations import JsClient, NatsBroker
from faststream.params.no_cast import NoCastField
from nats.aio.msg import Msg
from nats.js.api import ConsumerConfig
from sqlalchemy.exc import SQLAlchemyError

from tally.chatstore.write.batch import parse_chat_event, split_parsed
from tally.chatstore.write.lease import ChatLease, Switchable
from tally.chatstore.write.settings_bucket import publish_settings
from tally.chatstore.write.stream_purge import TextEraser
from tally.chatstore.write.writer import ChatWriter, WriteResult
from tally.contracts.chat_events import ChatEvent
from tally.contracts.events import DeadLetter
from tally.contracts.subjects import CHATS_DURABLE, Subjects
from tally.infra.telemetry import batch_span
from tally.ingest.chats.order import StreamOrder, sequence
from tally.ingest.config import IngestSettings
from tally.ingest.delivery import SERVICE
from tally.ingest.deps import MetricsDep, SettingsDep, SubjectsDep
from tally.ingest.metrics import IngestMetrics
from tally.runtime.deadletter import MAX_PAYLOAD_CHARS, ReasonKind, publish_dead_letter
from tally.runtime.metrics import observe_seconds

log = structlog.get_logger(__name__)
Batch = Annotated[list[Msg], NoCastField()]
"""The raw JetStream messages of one fetch (bodies are validated once, by pydantic)."""

WRITER: Final = "chat_writer"
ORDER: Final = "chat_stream_order"
ERASER: Final = "chat_text_eraser"
CONSUMER: Final = "chat_consumer"


class ChatPipeline:
    """The one batch of chat events being written while the subscriber fetches the next."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    async def wait(self) -> None:
        """Return when the batch in flight (if any) is settled. Cancelling the caller does not
        cancel that batch (``asyncio.wait``); it handles its own failures."""
        if self._task is not None:
            await asyncio.wait([self._task])

    def start(self, settle: Coroutine[Any, Any, None]) -> None:
        """Run ``settle`` (one batch's write and acknowledgements) in the background; call
        :meth:`wait` first."""
        self._task = asyncio.create_task(settle)


class ChatConsumer:
    """The chat events subscriber and its pipeline, started and stopped together (what
    :class:`ChatLease` switches): ``stop`` stops fetching, then waits for the batch in
    flight, so nothing fetched is left half-settled while the broker is still connected."""

    def __init__(self) -> None:
        self.pipeline = ChatPipeline()
        self.subscriber: Switchable | None = None

    async def start(self) -> None:
        assert self.subscriber is not None, "create_router sets the subscriber"
        await self.subscriber.start()

    async def stop(self) -> None:
        if self.subscriber is not None:
            await self.subscriber.stop()
        await self.pipeline.wait()


ChatWriterDep = Annotated[ChatWriter, Context(WRITER)]
StreamOrderDep = Annotated[StreamOrder, Context(ORDER)]
TextEraserDep = Annotated[TextEraser, Context(ERASER)]
ChatConsumerDep = Annotated[ChatConsumer, Context(CONSUMER)]


def provide(
    context: ContextRepo, *, writer: ChatWriter, subjects: Subjects, consumer: ChatConsumer
) -> None:
    """Put the chat writer and the consumer's state (stream order, text still to erase, the
    batch in flight) in ``context`` (a broker's: one of each per broker)."""
    context.set_global(WRITER, writer)
    context.set_global(ORDER, StreamOrder(subjects.chat_events_stream))
    context.set_global(ERASER, TextEraser(subjects))
    context.set_global(CONSUMER, consumer)


class RetryLaterError(Exception):
    """The batch's write failed in a way that may pass: nak it with ``retry_delay_s``."""


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


@dataclass(frozen=True)
class ChatBatch:
    """Stores fetches of chat events with one broker's writer, stream order and settings."""

    writer: ChatWriter
    order: StreamOrder
    eraser: TextEraser
    subjects: Subjects
    settings: IngestSettings
    metrics: IngestMetrics

    async def settle(
        self, fetched: list[Msg], parsed: list[ChatEvent | str], broker: NatsBroker, js: JsClient
    ) -> None:
        """Store ``fetched`` (``parsed``: :func:`parse_chat_event` of each) in one span linked
        to each event's trace and acknowledge it; nak what was not stored: after
        ``retry_delay_s`` when the write may pass later, at once on any other failure (as
        FastStream's NACK_ON_ERROR did). Raises nothing (it runs as a task)."""
        unsettled: list[Msg] = []
        try:
            with batch_span("ingest chat_events batch", (message.headers for message in fetched)):
                await self.store(fetched, parsed, broker, js, unsettled)
        except RetryLaterError:
            await _nak(unsettled, self.settings.retry_delay_s)
        except Exception:  # a task's failure would go unseen: log it, let JetStream redeliver
            log.exception("chat batch failed")
            await _nak(unsettled, None)

    async def store(
        self,
        fetched: list[Msg],
        parsed: list[ChatEvent | str],
        broker: NatsBroker,
        js: JsClient,
        unsettled: list[Msg],
    ) -> None:
        """Apply the part of ``fetched`` that continues the stored run and acknowledge it after
        commit, settle the rest; ``unsettled`` holds what is not settled yet: all of ``fetched``
        until it is split, then the part applied until it is acknowledged. Raises
        RetryLaterError when the write may pass later."""
        unsettled[:] = fetched
        batch, ready = await self._in_order(fetched, js)
        unsettled[:] = batch
        if not batch:
            return
        valid, invalid = split_parsed([parsed[index] for index in ready])
        try:  # write_isolating raises only failures that may pass
            with observe_seconds(self.metrics.chat_batch_seconds):
                written, refused = await self.writer.write_isolating([e for _, e in valid])
            await publish_settings(js, self.subjects, written.settings)
        except (SQLAlchemyError, OSError, TimeoutError, nats.errors.Error) as error:
            log.warning("chat batch failed, will retry", error=str(error).splitlines()[0][:300])
            self.metrics.handled("chat_event", "retried", len(batch))
            raise RetryLaterError from error
        letters: list[tuple[int, str, ReasonKind]] = [
            *((index, reason, "validation") for index, reason in invalid),
            *((valid[index][0], reason, "database") for index, reason in refused),
        ]
        for index, reason, kind in letters:
            await publish_dead_letter(
                broker, self.subjects, dead_letter(batch[index], reason), kind=kind
            )
        self.order.stored(batch)
        await self._forget_text(js, written, [batch[index] for index, _ in valid])
        for message in batch:
            await message.ack()
        unsettled.clear()
        self.metrics.handled("chat_event", "stored", written.events)
        self.metrics.handled("chat_event", "dead_letter", len(letters))

    async def _in_order(self, fetched: list[Msg], js: JsClient) -> tuple[list[Msg], list[int]]:
        """Ack the events already stored, nak those that would overtake older ones; the
        rest, in stream order, and their indexes in ``fetched``."""
        split = await self.order.split(js, fetched)
        for index in split.stale:
            await fetched[index].ack()
        for index in split.later:
            await fetched[index].nak(delay=self.settings.reorder_delay_s)
        self.metrics.handled("chat_event", "duplicate", len(split.stale))
        self.metrics.handled("chat_event", "reordered", len(split.later))
        return [fetched[index] for index in split.ready], list(split.ready)

    async def _forget_text(self, js: JsClient, written: WriteResult, valid: list[Msg]) -> None:
        """After commit: purge each chat's text events older than the SettingsChanged that
        turned its text storage off, and delete events whose text was not stored (``valid``:
        the messages of the events written, in their order)."""
        dropped = [valid[index] for index in written.text_dropped]
        turned_off = {chat_id: valid[index] for chat_id, index in written.text_off.items()}
        if dropped or turned_off:
            await self.eraser.erase(
                js,
                chats={chat_id: sequence(m) for chat_id, m in turned_off.items()},
                sequences=[sequence(message) for message in dropped],
            )


def chat_batch(
    writer: ChatWriterDep,
    order: StreamOrderDep,
    eraser: TextEraserDep,
    subjects: SubjectsDep,
    settings: SettingsDep,
    metrics: MetricsDep,
) -> ChatBatch:
    """The chat events writer of this broker (see ChatBatch)."""
    return ChatBatch(writer, order, eraser, subjects, settings, metrics)


async def _nak(messages: list[Msg], delay: float | None) -> None:
    """Nak ``messages`` (redelivered after ``delay`` seconds); a connection already closed
    leaves them to JetStream's AckWait."""
    for message in messages:
        try:
            await message.nak(delay=delay)
        except nats.errors.Error:
            return


async def store_chat_events(
    batch: Batch,
    broker: NatsBroker,
    js: JsClient,
    chats: Annotated[ChatBatch, Depends(chat_batch)],
    consumer: ChatConsumerDep,
) -> None:
    """Store one fetch of chat events in one span (linked to each event's trace), its chats
    in CHAT_WRITE_CONNECTIONS concurrent transactions, acknowledged after every one commits,
    while the next fetch is made: the handler parses it,
    waits until the fetch before it is settled, and writes it in a task (ChatBatch.settle)."""
    parsed = [parse_chat_event(message.subject, message.data, chats.subjects) for message in batch]
    await consumer.pipeline.wait()
    consumer.pipeline.start(chats.settle(batch, parsed, broker, js))


def max_ack_pending(settings: IngestSettings) -> int:
    """The chat events consumer's limit of messages handed out and not yet acknowledged: two
    fetches (the one being written and the next, :class:`ChatPipeline`)."""
    return 2 * settings.chat_batch_size


def create_router(
    subjects: Subjects,
    settings: IngestSettings,
    consumer: ChatConsumer,
    *,
    lease: ChatLease | None = None,
) -> NatsRouter:
    """The CHAT_EVENTS consumer (durable ``ingest-chats``) of ``subjects``' deployment, made
    ``consumer``'s subscriber; with ``lease``, it runs only while ``lease`` is held (see
    tally.chatstore.write.lease)."""
    router = NatsRouter()
    subscriber = router.subscriber(
        subjects.chat_events_all,
        stream=JStream(subjects.chat_events_stream, declare=False),
        durable=CHATS_DURABLE,
        pull_sub=PullSub(batch_size=settings.chat_batch_size, timeout=0.5, batch=True),
        ack_policy=AckPolicy.MANUAL,
        config=ConsumerConfig(max_ack_pending=max_ack_pending(settings)),
        decoder=raw_messages,
    )
    subscriber(store_chat_events)
    consumer.subscriber = subscriber
    if lease is not None:
        lease.subscriber = consumer
    return router
