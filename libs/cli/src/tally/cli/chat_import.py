"""``tally import-chat``: a Telegram Desktop chat export into CHAT_EVENTS, as live capture.

The export (``result.json``, or the folder holding it) is read twice with ijson, one message
at a time, never whole: a first pass learns user ids by display name and the forum topics
(:class:`tally.contracts.chat_export.Directory`), the second converts each message
(:class:`~tally.contracts.chat_export.Converter`) and publishes the events on
``Subjects.chat_event(chat_id, kind)`` with ``Nats-Msg-Id`` set to their export-derived ids
(:func:`tally.cli.seed_chats.publish_chat_events`). Ingest stores them as it stores the
gateway's: JetStream drops a repeated id within its duplicate window, and beyond it ingest's
writes are idempotent (messages on chat, id and send time, member events on their id,
edits and reaction totals replaced by the same values), so importing the same file again
changes no table.

Text travels as the gateway lets it: when the chat's settings (the settings bucket ingest
keeps) store text; for a chat with no settings stored, only with ``with_text``.
"""

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, NotFoundError
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from tally.cli.errors import quiet_client_errors
from tally.cli.importer import BrokerUnavailableError
from tally.cli.seed_chats import publish_chat_events
from tally.contracts.chat_events import ChatEvent, ChatSettings
from tally.contracts.chat_export import (
    ChatExportError,
    Converter,
    Directory,
    ExportedChat,
    Tally,
    exported_chat,
    read_header,
    read_messages,
)
from tally.contracts.streams import ensure_streams
from tally.contracts.subjects import CHATS_DURABLE, Subjects
from tally.infra.settings import CommonSettings

PUBLISH_CHUNK = 500
"""Events published before waiting for JetStream's acknowledgements (and moving the bar)."""
Storing = Literal["stored", "pending", "no ingest"]


@dataclass(frozen=True)
class ChatImport:
    """What an import did: the chat, the events by kind and what was left out (``tally``),
    events JetStream stored anew (``new``: 0 on a re-import within its duplicate window),
    where the text decision came from (``text``), and whether ingest had stored everything
    when the command ended (``storing``)."""

    chat: ExportedChat
    tally: Tally
    published: int
    new: int
    text: str
    storing: Storing


def export_file(path: Path) -> Path:
    """``path``, or the ``result.json`` inside it when it is the export's folder."""
    return path / "result.json" if path.is_dir() else path


def _open(path: Path, stack: ExitStack) -> IO[bytes]:
    try:
        return stack.enter_context(path.open("rb"))
    except OSError as error:
        raise ChatExportError(f"Cannot open {path}: {error.strerror}.") from None


async def stored_settings(
    js: JetStreamContext, subjects: Subjects, chat_id: int
) -> ChatSettings | None:
    """The chat's settings as ingest last stored them in the settings bucket (what the
    gateway reads); None when there are none (no bucket, no entry, or an invalid one)."""
    try:
        bucket = await js.key_value(subjects.chat_settings_bucket)
        entry = await bucket.get(str(chat_id))
    except (BucketNotFoundError, KeyNotFoundError):
        return None
    try:
        return ChatSettings.model_validate_json(entry.value or b"")
    except ValidationError:
        return None


def text_choice(settings: ChatSettings | None, *, with_text: bool) -> tuple[bool, str]:
    """(whether text travels, why): the chat's stored setting decides; with none stored,
    ``with_text`` does."""
    if settings is not None:
        verb = "keep" if settings.store_text else "do not keep"
        return settings.store_text, f"the chat's settings {verb} message text"
    if with_text:
        return True, "text sent (--with-text); ingest keeps it only if the chat stores text"
    return False, "no settings stored for this chat: text left out (--with-text sends it)"


async def _wait_for_ingest(
    js: JetStreamContext, subjects: Subjects, progress: Progress, idle_timeout_s: float
) -> Storing:
    """Wait until ingest's chat consumer acknowledged the stream up to its current end;
    give up when it moves for none of ``idle_timeout_s`` seconds."""
    stream = subjects.chat_events_stream
    last = (await js.stream_info(stream)).state.last_seq
    task = progress.add_task("stored by ingest", total=last)
    floor, since = -1, asyncio.get_running_loop().time()
    while True:
        try:
            info = await js.consumer_info(stream, CHATS_DURABLE)
        except NotFoundError:
            return "no ingest"
        done = info.ack_floor.stream_seq if info.ack_floor else 0
        progress.update(task, completed=min(done, last))
        if done >= last and not info.num_ack_pending:
            return "stored"
        now = asyncio.get_running_loop().time()
        if done != floor:
            floor, since = done, now
        elif now - since > idle_timeout_s:
            return "pending"
        await asyncio.sleep(0.2)


async def _connect(settings: CommonSettings) -> Client:
    try:
        return await nats.connect(
            settings.nats_servers(),
            **settings.nats_auth(),
            name="tally-import-chat",
            connect_timeout=5,
            error_cb=quiet_client_errors,
        )
    except (OSError, TimeoutError, nats.errors.Error) as error:
        raise BrokerUnavailableError(
            f"cannot reach NATS at {settings.nats_url}: {error}",
            hint="start the stack with `tally up`, or set NATS_URL",
        ) from error


async def _publish_all(
    js: JetStreamContext,
    subjects: Subjects,
    converter: Converter,
    messages: Iterator[Any],
    on_message: Any,
) -> tuple[int, int]:
    """Convert and publish every message, PUBLISH_CHUNK events at a time, in file order;
    return (events published, events JetStream stored anew)."""
    published = new = 0
    pending: list[ChatEvent] = []
    for raw in messages:
        pending.extend(converter.convert(raw))
        on_message()
        if len(pending) >= PUBLISH_CHUNK:
            new += await publish_chat_events(js, subjects, pending)
            published, pending = published + len(pending), []
    if pending:
        new += await publish_chat_events(js, subjects, pending)
    return published + len(pending), new


async def import_chat(
    path: Path,
    settings: CommonSettings,
    *,
    with_text: bool = False,
    console: Console | None = None,
    idle_timeout_s: float = 30.0,
) -> ChatImport:
    """Import the chat export at ``path`` (see the module docstring) and report it.

    Returns once ingest stored every event, or did not move for ``idle_timeout_s`` seconds
    (the events wait in CHAT_EVENTS). Raises ChatExportError for a file that is not a
    Telegram Desktop export of a group (one sentence: missing, not JSON, another chat
    type), BrokerUnavailableError when NATS cannot be reached. A progress bar is drawn on
    ``console`` when given.
    """
    file = export_file(path)
    subjects = Subjects(settings.subject_prefix)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with ExitStack() as stack:
        chat = exported_chat(read_header(_open(file, stack)))
        progress = stack.enter_context(Progress(*columns, console=console, disable=console is None))
        directory = Directory()
        learning = progress.add_task("reading the export", total=None)
        for raw in read_messages(_open(file, stack)):
            directory.learn(raw)
            progress.advance(learning)
        progress.update(learning, total=directory.messages)
        connection = await _connect(settings)
        try:
            js = connection.jetstream()
            await ensure_streams(js, subjects, replicas=settings.stream_replicas)
            keep, why = text_choice(
                await stored_settings(js, subjects, chat.chat_id), with_text=with_text
            )
            converter = Converter(chat, directory, keep)
            sending = progress.add_task("publishing", total=directory.messages)
            published, new = await _publish_all(
                js,
                subjects,
                converter,
                read_messages(_open(file, stack)),
                lambda: progress.advance(sending),
            )
            storing = await _wait_for_ingest(js, subjects, progress, idle_timeout_s)
        finally:
            await connection.close()
    return ChatImport(chat, converter.tally, published, new, why, storing)


KIND_NAMES = {
    "message": "messages",
    "edit": "edits",
    "reaction_count": "reaction totals",
    "member": "joins and leaves",
    "title": "title changes",
}


def summary(report: ChatImport) -> list[str]:
    """The lines ``tally import-chat`` prints after an import."""
    chat, tally = report.chat, report.tally
    kinds = ", ".join(
        f"{tally.events[kind]:,} {name}" for kind, name in KIND_NAMES.items() if tally.events[kind]
    )
    lines = [
        f"Imported {chat.title or 'the chat'} ({chat.chat_id}): {report.published:,} events "
        f"({kinds or 'none'}), {report.new:,} new to the stream.",
        f"Text: {report.text}.",
    ]
    skipped = sum(tally.skipped.values())
    lines.append(f"Skipped {skipped:,} messages that failed validation.")
    lines += [f"  {count:,} × {reason}" for reason, count in tally.skipped.most_common(5)]
    if tally.other_service:
        lines.append(
            f"{tally.other_service:,} other service messages (pins, topics, calls...) "
            "have no chat event."
        )
    if tally.unknown_members:
        lines.append(
            f"Left out {tally.unknown_members:,} joins or leaves of people the export names "
            "but gives no id for (they never wrote or acted in it)."
        )
    lines.append(
        {
            "stored": "Ingest has stored them.",
            "pending": "Ingest has not stored them all yet; they wait in CHAT_EVENTS.",
            "no ingest": "Ingest has never run here; it stores them when it starts.",
        }[report.storing]
    )
    return lines
