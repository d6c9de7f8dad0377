"""Replay: read CHAT_EVENTS again and write it through :class:`ChatWriter`, as ingest does.

An ephemeral pull consumer (no acks, in memory, gone a minute after it is left) reads the
stream in order from the start, a stream sequence or a time, in fetches of ``batch_size``, until
it has caught up with the stream. Each fetch is written like a live batch (one transaction;
events the database refuses are skipped, as ingest dead-letters them), so a replay onto
emptied tables writes exactly what live ingest wrote. Invalid payloads are skipped and
counted: ingest dead-lettered them when they first came.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from tally.chatstore.write.batch import parse_chat_events
from tally.chatstore.write.settings_bucket import publish_settings
from tally.chatstore.write.writer import ChatWriter
from tally.contracts.subjects import Subjects

ReplayStart = int | datetime | None
"""Where a replay starts: a stream sequence, a time (the first message stored at or after
it), or None for the beginning of the stream."""
IDLE_S = 1.0
"""How long a fetch waits for a message before the replay counts the stream as read."""


@dataclass
class ReplayReport:
    """What a replay read and wrote: messages read from the stream, invalid payloads skipped,
    events the database refused, new messages and member events stored, the last stream
    sequence read (0: none)."""

    read: int = 0
    invalid: int = 0
    refused: int = 0
    messages: int = 0
    member_events: int = 0
    last_sequence: int = 0


def replay_consumer(subjects: Subjects, start: ReplayStart) -> ConsumerConfig:
    """The ephemeral consumer's configuration for a replay from ``start``."""
    config = ConsumerConfig(
        ack_policy=AckPolicy.NONE,
        inactive_threshold=60.0,
        mem_storage=True,
        filter_subject=subjects.chat_events_all,
        deliver_policy=DeliverPolicy.ALL,
    )
    if isinstance(start, int):
        config.deliver_policy, config.opt_start_seq = DeliverPolicy.BY_START_SEQUENCE, start
    elif isinstance(start, datetime):
        config.deliver_policy, config.opt_start_time = DeliverPolicy.BY_START_TIME, start
    return config


async def replay_chat_events(
    *,
    js: JetStreamContext,
    subjects: Subjects,
    writer: ChatWriter,
    start: ReplayStart = None,
    batch_size: int = 1000,
    progress: Callable[[ReplayReport], None] | None = None,
) -> ReplayReport:
    """Write the chat events of the stream from ``start`` until caught up; call
    ``progress(report)`` after each fetch. Settings found are put in the settings bucket.

    Raises ``nats.js.errors.NotFoundError`` when the stream does not exist, and what
    :meth:`ChatWriter.write_isolating` raises.
    """
    report = ReplayReport()
    subscription = await js.pull_subscribe(
        subjects.chat_events_all,
        stream=subjects.chat_events_stream,
        config=replay_consumer(subjects, start),
    )
    try:
        while True:
            try:
                fetched = await subscription.fetch(batch_size, timeout=IDLE_S)
            except TimeoutError:  # nats-py raises its own, or asyncio's when the time runs out
                return report
            messages = [(message.subject, message.data) for message in fetched]
            valid, invalid = parse_chat_events(messages, subjects)
            written, refused = await writer.write_isolating([event for _, event in valid])
            await publish_settings(js, subjects, written.settings)
            report.read += len(fetched)
            report.invalid += len(invalid)
            report.refused += len(refused)
            report.messages += written.messages
            report.member_events += written.member_events
            report.last_sequence = fetched[-1].metadata.sequence.stream
            if progress is not None:
                progress(report)
            if fetched[-1].metadata.num_pending == 0:
                return report
    finally:
        await subscription.unsubscribe()
