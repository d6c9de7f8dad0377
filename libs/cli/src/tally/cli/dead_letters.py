"""``tally dlq``: list, show, replay and purge the dead letters of DEAD_LETTERS.

Letters are read by stream sequence (``$JS.API.STREAM.MSG.GET``, the next message of a subject
from a sequence on), never through a consumer: nothing any service consumes is touched, and a
letter is read whole whatever its size. A replay publishes the letter's ``payload`` back to its
``subject`` with its original ``headers`` (``traceparent`` included, so the retry joins the
trace that failed); JetStream stores it again in the stream that owns the subject, and the
service's durable consumes it.
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from tally.contracts.access import allowed
from tally.contracts.events import DeadLetter
from tally.contracts.streams import stream_configs
from tally.contracts.subjects import Subjects
from tally.infra.errors import UserFacingError
from tally.infra.settings import CommonSettings

MSG_ID = "Nats-Msg-Id"
"""The header JetStream deduplicates by, within the stream's duplicate window."""


class NoDeadLetterStreamError(UserFacingError):
    """The deployment's DEAD_LETTERS stream was never declared (or was deleted)."""


class DeadLetterNotFoundError(UserFacingError):
    """No dead letter has the sequence asked for (never stored, replayed, or purged)."""


@dataclass(frozen=True)
class StoredLetter:
    """A dead letter as stored: its stream sequence, when JetStream stored it, and the letter
    (None when the message is not a ``DeadLetter``: ``problem`` says why)."""

    seq: int
    stored_at: datetime | None
    letter: DeadLetter | None
    problem: str = ""


@dataclass(frozen=True)
class Replayed:
    """What became of one replayed letter: ``stored`` (as ``stream`` sequence ``seq``),
    ``duplicate`` (JetStream dropped it: its ``Nats-Msg-Id`` is in the duplicate window), or
    ``published`` (no stream keeps its subject: sent to whoever subscribes now)."""

    letter_seq: int
    outcome: Literal["stored", "duplicate", "published"]
    stream: str = ""
    seq: int = 0


@asynccontextmanager
async def connect(common: CommonSettings) -> AsyncIterator[Client]:
    """A connection to ``common``'s NATS (drained and closed on exit)."""
    connection = await nats.connect(common.nats_url, **common.nats_auth())
    try:
        yield connection
    finally:
        await connection.drain()


def stream_of(subjects: Subjects, subject: str) -> str | None:
    """The deployment's stream that stores ``subject``, or None (a core NATS subject)."""
    for config in stream_configs(subjects):
        if allowed(config.subjects or [], subject):
            return config.name
    return None


async def _messages_in(js: JetStreamContext, subjects: Subjects) -> int:
    """How many letters the stream holds; raises NoDeadLetterStreamError."""
    try:
        return (await js.stream_info(subjects.dead_letter_stream)).state.messages
    except NotFoundError:
        raise NoDeadLetterStreamError(
            f"No stream {subjects.dead_letter_stream} on this NATS: is SUBJECT_PREFIX right? "
            "`tally declare-streams` creates it."
        ) from None


def _filter(subjects: Subjects, service: str | None) -> str:
    return subjects.dead_letter(service) if service else subjects.dead_letter_subjects[0]


def _stored(seq: int, data: bytes, stored_at: datetime | None) -> StoredLetter:
    try:
        return StoredLetter(seq, stored_at, DeadLetter.model_validate_json(data))
    except ValidationError as error:
        return StoredLetter(seq, stored_at, None, f"not a DeadLetter: {error.error_count()} errors")


async def letters(
    js: JetStreamContext, subjects: Subjects, *, service: str | None = None
) -> AsyncIterator[StoredLetter]:
    """Every dead letter (of ``service`` only, when given), oldest first; raises
    NoDeadLetterStreamError."""
    await _messages_in(js, subjects)
    stream, subject, seq = subjects.dead_letter_stream, _filter(subjects, service), 1
    while True:
        try:
            message = await js.get_msg(stream, seq=seq, subject=subject, next=True)
        except NotFoundError:
            return
        assert message.seq is not None  # the server always says which message it returns
        yield _stored(message.seq, message.data or b"", message.time)
        seq = message.seq + 1


async def letter(js: JetStreamContext, subjects: Subjects, seq: int) -> StoredLetter:
    """The dead letter stored as ``seq``; raises DeadLetterNotFoundError or
    NoDeadLetterStreamError."""
    await _messages_in(js, subjects)
    try:
        message = await js.get_msg(subjects.dead_letter_stream, seq=seq)
    except NotFoundError:
        raise DeadLetterNotFoundError(
            f"No dead letter {seq} in {subjects.dead_letter_stream} (`tally dlq ls` lists them)."
        ) from None
    return _stored(seq, message.data or b"", message.time)


async def replay(
    connection: Client,
    subjects: Subjects,
    seq: int,
    *,
    keep: bool = False,
    new_msg_id: bool = False,
) -> Replayed:
    """Publish letter ``seq``'s payload to its subject with its headers, then delete the letter
    unless ``keep`` (or JetStream dropped the replay as a duplicate). ``new_msg_id`` gives the
    replay a fresh ``Nats-Msg-Id`` (a UUID), for a letter whose original id JetStream still
    remembers. Raises DeadLetterNotFoundError, or UserFacingError for a message that is not
    a DeadLetter."""
    js = connection.jetstream()
    stored = await letter(js, subjects, seq)
    if stored.letter is None:
        raise UserFacingError(f"Dead letter {seq} cannot be replayed: {stored.problem}.")
    headers = dict(stored.letter.headers)
    if new_msg_id:
        headers[MSG_ID] = str(uuid.uuid4())
    subject, payload = stored.letter.subject, stored.letter.payload.encode()
    stream = stream_of(subjects, subject)
    if stream is None:
        await connection.publish(subject, payload, headers=headers or None)
        await connection.flush()
        replayed = Replayed(seq, "published")
    else:
        ack = await js.publish(subject, payload, stream=stream, headers=headers or None)
        outcome: Literal["stored", "duplicate"] = "duplicate" if ack.duplicate else "stored"
        replayed = Replayed(seq, outcome, ack.stream, ack.seq)
    if not keep and replayed.outcome != "duplicate":
        await js.delete_msg(subjects.dead_letter_stream, seq)
    return replayed


async def purge(js: JetStreamContext, subjects: Subjects, *, service: str | None = None) -> int:
    """Delete every dead letter (of ``service`` only, when given); how many went. Raises
    NoDeadLetterStreamError."""
    before = await _messages_in(js, subjects)
    await js.purge_stream(subjects.dead_letter_stream, subject=_filter(subjects, service))
    return before - await _messages_in(js, subjects)
