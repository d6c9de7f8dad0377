"""Forgetting one chat's events in CHAT_EVENTS: retention, and text storage turned off.

Chat events are on ``{p}.chats.{chat_id}.{kind}``, so JetStream can purge one chat's events
of one kind below a stream sequence (``STREAM.PURGE`` with ``filter`` and ``seq``).

- Retention (:func:`purge_older_events`): the chat's events of the kinds retention deletes
  from the tables (``RETAINED_KINDS``) whose ``occurred_at`` is before the cutoff. An ephemeral
  consumer reads the chat's events from the start of the stream up to the first one of those
  kinds at or after the cutoff; everything of those kinds below it is purged. Events stored
  later than a newer one (out of order) stay until that newer one is older than the cutoff.
  ``settings`` events stay: they hold no names or text, and a replay needs them to know the
  chat's time zone and text setting; so do ``member_count`` events (no member's name, and
  retention keeps the member counts they rebuild).
  Nothing ingest has not yet acknowledged is purged (:func:`stored_below`): an event older
  than the cutoff that is still waiting in the stream (a backlog after downtime, an imported
  history) is stored and counted by the rollups first, and purged by a later pass.
- Text storage turned off (:func:`purge_text_events`): the chat's ``message`` and ``edit``
  events before the SettingsChanged that turned it off, every one of them (JetStream cannot
  rewrite a message without its text). Single events that still carried text after that (the gateway
  learns the setting from the settings bucket a moment later) are deleted one by one.

A replay can no longer rebuild what was purged; the rollups in the database keep counting it.
"""

import json
from collections.abc import Iterable
from datetime import datetime

import nats.errors
import structlog
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import BadRequestError, NotFoundError

from tally.contracts.subjects import CHATS_DURABLE, Subjects

RETAINED_KINDS = ("message", "edit", "delete", "reaction", "reaction_count", "member", "title")
"""The kinds of chat event retention purges: all but ``settings`` and ``member_count``."""
TEXT_KINDS = ("message", "edit")
"""The kinds of chat event that carry text."""
SCAN_BATCH = 500
IDLE_S = 1.0
log = structlog.get_logger(__name__)


def _occurred_at(body: bytes) -> datetime | None:
    """The event's ``occurred_at`` (aware), or None when the body has no readable one."""
    try:
        moment = datetime.fromisoformat(json.loads(body)["occurred_at"])
    except (ValueError, KeyError, TypeError):
        return None
    return moment if moment.tzinfo else None


def _is_newer(subject: str, body: bytes, cutoff: datetime) -> bool:
    if subject.rsplit(".", 1)[-1] not in RETAINED_KINDS:
        return False
    moment = _occurred_at(body)
    return moment is not None and moment >= cutoff


async def stored_below(js: JetStreamContext, subjects: Subjects) -> int:
    """The first CHAT_EVENTS stream sequence ingest's durable consumer (``ingest-chats``) has
    not acknowledged: every event below it is stored (or dead-lettered). 1 when the consumer
    does not exist yet (nothing is stored). Raises ``nats.errors.Error`` when JetStream does
    not answer."""
    try:
        info = await js.consumer_info(subjects.chat_events_stream, CHATS_DURABLE)
    except NotFoundError:
        return 1
    return int(info.ack_floor.stream_seq if info.ack_floor else 0) + 1


async def purge_bound(
    js: JetStreamContext,
    subjects: Subjects,
    chat_id: int,
    cutoff: datetime,
    *,
    below: int | None = None,
) -> tuple[int, int] | None:
    """(the stream sequence below which chat ``chat_id``'s events of RETAINED_KINDS all
    happened before ``cutoff``, how many such events are below it); None when the chat has
    no events. With ``below``, the scan stops at that stream sequence (exclusive), as at an
    event after the cutoff. Raises ``nats.errors.Error`` when JetStream does not answer."""
    subscription = await js.pull_subscribe(
        f"{subjects.prefix}.chats.{chat_id}.>",
        stream=subjects.chat_events_stream,
        config=ConsumerConfig(
            ack_policy=AckPolicy.NONE,
            deliver_policy=DeliverPolicy.ALL,
            inactive_threshold=60.0,
            mem_storage=True,
        ),
    )
    bound, older = None, 0
    try:
        while True:
            try:
                fetched = await subscription.fetch(SCAN_BATCH, timeout=IDLE_S)
            except TimeoutError:  # nats-py raises its own, or asyncio's when the time runs out
                return None if bound is None else (bound, older)
            for message in fetched:
                sequence = int(message.metadata.sequence.stream)
                if below is not None and sequence >= below:
                    return sequence, older
                if _is_newer(message.subject, message.data, cutoff):
                    return sequence, older
                older += message.subject.rsplit(".", 1)[-1] in RETAINED_KINDS
                bound = sequence + 1
            if fetched[-1].metadata.num_pending == 0:
                return None if bound is None else (bound, older)
    finally:
        await subscription.unsubscribe()


async def _purge(
    js: JetStreamContext, subjects: Subjects, chat_id: int, kinds: Iterable[str], below: int
) -> None:
    for kind in kinds:
        subject = subjects.chat_event(chat_id, kind)
        await js.purge_stream(subjects.chat_events_stream, subject=subject, seq=below)


async def purge_older_events(
    js: JetStreamContext, subjects: Subjects, chat_id: int, cutoff: datetime
) -> int:
    """Purge chat ``chat_id``'s events of RETAINED_KINDS that happened before ``cutoff``
    (UTC) and that ingest has acknowledged (below :func:`stored_below`) from CHAT_EVENTS (see
    the module's docstring); return how many there were. Raises ``nats.errors.Error`` when
    JetStream does not answer."""
    found = await purge_bound(js, subjects, chat_id, cutoff, below=await stored_below(js, subjects))
    if found is None or found[1] == 0:
        return 0
    await _purge(js, subjects, chat_id, RETAINED_KINDS, found[0])
    return found[1]


async def purge_text_events(
    js: JetStreamContext, subjects: Subjects, chat_id: int, *, below: int
) -> None:
    """Purge chat ``chat_id``'s ``message`` and ``edit`` events with stream sequences below
    ``below``. Raises ``nats.errors.Error`` when JetStream does not answer."""
    await _purge(js, subjects, chat_id, TEXT_KINDS, below)


class TextEraser:
    """Removes from CHAT_EVENTS the text ingest no longer stores, after the batch committed.

    A purge or deletion that fails (JetStream unreachable) is kept and tried again with the
    next batch, so a committed batch is never redelivered for it.
    """

    def __init__(self, subjects: Subjects) -> None:
        self.subjects = subjects
        self.chats: dict[int, int] = {}
        self.sequences: set[int] = set()

    async def erase(
        self, js: JetStreamContext, *, chats: dict[int, int], sequences: Iterable[int]
    ) -> None:
        """Purge each chat's text events below its sequence (``chats``: chat id -> sequence)
        and delete the single events at ``sequences``, with what failed before."""
        for chat_id, below in chats.items():
            self.chats[chat_id] = max(below, self.chats.get(chat_id, 0))
        self.sequences |= set(sequences)
        try:
            for chat_id, below in sorted(self.chats.items()):
                await purge_text_events(js, self.subjects, chat_id, below=below)
                del self.chats[chat_id]
            for sequence in sorted(self.sequences):
                await self._delete(js, sequence)
                self.sequences.discard(sequence)
        except (nats.errors.Error, TimeoutError) as error:
            log.warning("stored text not yet removed from the stream, will retry", error=error)

    async def _delete(self, js: JetStreamContext, sequence: int) -> None:
        try:
            await js.delete_msg(self.subjects.chat_events_stream, sequence)
        except (NotFoundError, BadRequestError):
            return  # already gone (purged, or deleted by an earlier try)
