"""``tally import-videos``: stream a seed-000 export into ingest over JetStream.

The file (``.json`` or ``.json.gz``, ``{"videos": [video, ...]}`` with each video's
``snapshots`` inside it) is read with ijson one video at a time, never whole. Each record is
validated; a bad one is reported by position and skipped. Valid records go out as
:class:`VideoBatch` events, each a video before its snapshots, with a ``Nats-Msg-Id`` so a
retried publish is stored once; ingest answers each stored batch with :class:`BatchStored`.
"""

import asyncio
import gzip
import hashlib
import os
import zlib
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast
from uuid import uuid4

import ijson
import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn

from tally.cli.errors import quiet_client_errors
from tally.contracts.events import BatchStored, SnapshotRecord, VideoBatch, VideoRecord
from tally.contracts.streams import ensure_streams
from tally.contracts.subjects import Subjects
from tally.infra.errors import UserFacingError
from tally.infra.settings import CommonSettings

MAX_BATCH_BYTES = 512 * 1024
"""Upper bound of one VideoBatch payload: half of NATS's default 1 MiB max_payload."""
PUBLISH_ATTEMPTS = 3
READ_ERRORS = (ijson.JSONError, EOFError, zlib.error, gzip.BadGzipFile)


class ImportFileError(UserFacingError):
    """The file to import cannot be opened."""


class ImportTimeoutError(UserFacingError):
    """Ingest did not confirm the published batches in time."""


class BrokerUnavailableError(UserFacingError):
    """NATS could not be reached or refused a publish."""


@dataclass
class ImportReport:
    """What an import did.

    ``videos`` and ``snapshots``: valid records published (stored, or stored before);
    ``skipped``: one line per record left out, with its position (``videos[17].snapshots[3]:
    views_count: …``), and last the JSON syntax error that stopped reading, if any;
    ``batches``: VideoBatch messages published; ``duplicates``: those JetStream had already
    (a publish retried after its acknowledgement was lost: the message id is the sha256 of
    the payload, which names the import, so importing a file again stores it again);
    ``stopped_at``: byte offset (of the decompressed JSON) where a syntax error stopped reading.
    """

    videos: int = 0
    snapshots: int = 0
    skipped: list[str] = field(default_factory=list)
    batches: int = 0
    duplicates: int = 0
    stopped_at: int | None = None


class _CountingReader:
    """A binary stream wrapper counting the bytes handed to the JSON parser."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.offset = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.offset += len(chunk)
        return chunk


def _describe(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(map(str, item['loc'])) or 'record'}: {item['msg']}" for item in error.errors()
    )


def _validate_video(where: str, raw: Any) -> tuple[VideoRecord | None, list[str]]:
    if not isinstance(raw, dict):
        return None, [f"{where}: expected an object, found {type(raw).__name__}"]
    try:
        return VideoRecord.model_validate(raw), []
    except ValidationError as error:
        snapshots = raw.get("snapshots")
        lost = f" (and its {len(snapshots)} snapshots)" if isinstance(snapshots, list) else ""
        return None, [f"{where}: {_describe(error)}{lost}"]


def _validate_snapshots(
    where: str, video: VideoRecord, raw: Any
) -> tuple[list[SnapshotRecord], list[str]]:
    if not isinstance(raw, list):
        return [], [f"{where}.snapshots: expected a list, found {type(raw).__name__}"]
    records: list[SnapshotRecord] = []
    problems: list[str] = []
    for index, item in enumerate(raw):
        try:
            record = SnapshotRecord.model_validate(item)
        except ValidationError as error:
            problems.append(f"{where}.snapshots[{index}]: {_describe(error)}")
            continue
        if record.video_id != video.id:
            problems.append(
                f"{where}.snapshots[{index}]: video_id: {record.video_id} is not {video.id}"
            )
            continue
        records.append(record)
    return records, problems


def read_videos(
    stream: IO[bytes], report: ImportReport
) -> Iterator[tuple[VideoRecord, list[SnapshotRecord]]]:
    """Valid videos of ``stream`` with their valid snapshots, in file order.

    Bad records are appended to ``report.skipped``; a syntax error ends the iteration and
    sets ``report.stopped_at`` (byte offset in the decompressed JSON; a parse error is
    located within ijson's 64 KiB read buffer, a truncated file at its end).
    """
    reader = _CountingReader(stream)
    items = ijson.items(reader, "videos.item", use_float=True)
    index = 0
    while True:
        try:
            raw = next(items)
        except StopIteration:
            return
        except READ_ERRORS as error:
            report.stopped_at = reader.offset
            detail = str(error).splitlines()[0] if str(error) else type(error).__name__
            report.skipped.append(
                f"byte {reader.offset}: JSON syntax error ({detail}); reading stopped"
            )
            return
        where = f"videos[{index}]"
        index += 1
        video, problems = _validate_video(where, raw)
        if video is not None:
            snapshots, more = _validate_snapshots(where, video, raw.get("snapshots", []))
            problems += more
            yield video, snapshots
        report.skipped.extend(problems)


@dataclass
class _Batcher:
    """Groups records into VideoBatch events of at most ``max_rows`` rows and ``max_bytes``."""

    import_id: str
    max_rows: int
    max_bytes: int
    videos: list[VideoRecord] = field(default_factory=list)
    snapshots: list[SnapshotRecord] = field(default_factory=list)
    size: int = 0
    count: int = 0

    def add(self, record: VideoRecord | SnapshotRecord) -> VideoBatch | None:
        """Take ``record``; return the batch completed before it, if one had to be closed."""
        size = len(record.model_dump_json()) + 1
        rows = len(self.videos) + len(self.snapshots)
        full = rows >= self.max_rows or self.size + size > self.max_bytes
        completed = self.flush() if rows and full else None
        if isinstance(record, VideoRecord):
            self.videos.append(record)
        else:
            self.snapshots.append(record)
        self.size += size
        return completed

    def flush(self) -> VideoBatch | None:
        """The batch of the records taken so far (None when there are none); starts anew."""
        if not self.videos and not self.snapshots:
            return None
        batch = VideoBatch(
            import_id=self.import_id,
            batch_no=self.count,
            videos=tuple(self.videos),
            snapshots=tuple(self.snapshots),
        )
        self.videos, self.snapshots, self.size, self.count = [], [], 0, self.count + 1
        return batch


class _Confirmations:
    """BatchStored answers of one import, counted by batch number."""

    def __init__(self) -> None:
        self.settled: set[int] = set()
        self.changed = asyncio.Event()

    async def on_message(self, message: Msg) -> None:
        stored = BatchStored.model_validate_json(message.data)
        self.settle(stored.batch_no)

    def settle(self, batch_no: int) -> None:
        self.settled.add(batch_no)
        self.changed.set()

    async def wait_for(self, batches: int, *, idle_timeout_s: float, on_progress: Any) -> None:
        """Return once ``batches`` batches are settled; raise ImportTimeoutError when none
        settles for ``idle_timeout_s`` seconds."""
        while len(self.settled) < batches:
            self.changed.clear()
            try:
                await asyncio.wait_for(self.changed.wait(), idle_timeout_s)
            except TimeoutError:
                missing = batches - len(self.settled)
                raise ImportTimeoutError(
                    f"ingest confirmed {len(self.settled)} of {batches} batches; none of the other "
                    f"{missing} within {idle_timeout_s:g} s. Is the ingest service running?",
                    hint="start the stack (tally up) or the ingest service; the batches are kept "
                    "in JetStream, so ingest stores them when it starts",
                ) from None
            on_progress(len(self.settled))


async def _publish(js: JetStreamContext, subjects: Subjects, batch: VideoBatch) -> bool:
    """Publish ``batch`` to JetStream; True when JetStream had it already (a duplicate)."""
    payload = batch.model_dump_json().encode()
    headers = {"Nats-Msg-Id": hashlib.sha256(payload).hexdigest()}
    failure: Exception | None = None
    for attempt in range(PUBLISH_ATTEMPTS):
        try:
            ack = await js.publish(
                subjects.video_batch, payload, headers=headers, stream=subjects.video_stats_stream
            )
            return bool(ack.duplicate)
        except (TimeoutError, nats.errors.Error) as error:
            failure = error
            await asyncio.sleep(attempt + 1)
    raise BrokerUnavailableError(f"JetStream did not accept a batch: {failure}") from failure


async def _connect(settings: CommonSettings) -> Client:
    try:
        return await nats.connect(
            settings.nats_servers(),
            **settings.nats_auth(),
            name="tally-import",
            error_cb=quiet_client_errors,
            connect_timeout=5,
            max_reconnect_attempts=3,
        )
    except (OSError, TimeoutError, nats.errors.Error) as error:
        raise BrokerUnavailableError(
            f"cannot reach NATS at {settings.nats_url}: {error}",
            hint="start the stack with `tally up`, or set NATS_URL",
        ) from error


def _open(path: Path, stack: ExitStack) -> tuple[IO[bytes], IO[bytes]]:
    """(the JSON byte stream, the raw file whose position tracks progress)."""
    try:
        raw = stack.enter_context(path.open("rb"))
    except OSError as error:
        raise ImportFileError(f"cannot open {path}: {error.strerror}") from error
    if path.suffix == ".gz":
        return cast(IO[bytes], stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))), raw
    return raw, raw


def _progress(console: Console | None, stack: ExitStack) -> Progress:
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn())
    return stack.enter_context(Progress(*columns, console=console, disable=console is None))


class _Import:
    """One run of :func:`import_videos`: reads, batches, publishes and tracks confirmations."""

    def __init__(
        self, connection: Client, subjects: Subjects, progress: Progress, *, batch_rows: int
    ) -> None:
        self.js = connection.jetstream()
        self.subjects = subjects
        self.progress = progress
        self.report = ImportReport()
        self.confirmations = _Confirmations()
        max_bytes = min(MAX_BATCH_BYTES, connection.max_payload // 2)
        self.batcher = _Batcher(uuid4().hex, max_rows=batch_rows, max_bytes=max_bytes)
        self.storing = progress.add_task("stored batches", total=None)

    async def send(self, batch: VideoBatch | None) -> None:
        """Publish ``batch`` (if any); a duplicate counts as confirmed at once."""
        if batch is None:
            return
        self.report.batches += 1
        self.progress.update(self.storing, total=self.report.batches)
        if await _publish(self.js, self.subjects, batch):
            self.report.duplicates += 1
            self.confirmations.settle(batch.batch_no)

    async def send_file(self, stream: IO[bytes], raw: IO[bytes], size: int) -> None:
        """Read, validate and publish every record of ``stream``, a video before its snapshots."""
        reading = self.progress.add_task(f"reading {size / 1e6:.1f} MB", total=size)
        for video, snapshots in read_videos(stream, self.report):
            self.report.videos += 1
            self.report.snapshots += len(snapshots)
            records: list[VideoRecord | SnapshotRecord] = [video, *snapshots]
            for record in records:
                await self.send(self.batcher.add(record))
            self.progress.update(reading, completed=raw.tell())
        await self.send(self.batcher.flush())
        self.progress.update(reading, completed=size)

    def stored(self, done: int) -> None:
        """Show ``done`` of the batches published as stored."""
        description = f"stored {done}/{self.report.batches} batches"
        self.progress.update(self.storing, completed=done, description=description)

    async def wait(self, timeout_s: float) -> None:
        """Wait for ingest's confirmation of every batch published (see _Confirmations)."""
        await self.confirmations.wait_for(
            self.report.batches,
            idle_timeout_s=timeout_s,
            on_progress=self.stored,
        )


async def import_videos(
    path: Path,
    settings: CommonSettings,
    *,
    console: Console | None = None,
    batch_rows: int = 2000,
    timeout_s: float = 120,
) -> ImportReport:
    """Import the videos and snapshots of ``path`` through ingest and report what happened.

    Batches hold at most ``batch_rows`` rows. Returns once ingest confirmed every batch;
    raises :class:`ImportTimeoutError` when no confirmation arrives for ``timeout_s`` seconds,
    :class:`ImportFileError` when the file cannot be opened, :class:`BrokerUnavailableError`
    when NATS cannot be reached. A progress bar is drawn on ``console`` when given.
    """
    subjects = Subjects(settings.subject_prefix)
    with ExitStack() as stack:
        stream, raw = _open(path, stack)
        size = os.fstat(raw.fileno()).st_size
        connection = await _connect(settings)
        try:
            await ensure_streams(
                connection.jetstream(), subjects, replicas=settings.stream_replicas
            )
            progress = _progress(console, stack)
            run = _Import(connection, subjects, progress, batch_rows=batch_rows)
            progress_subject = subjects.import_progress(run.batcher.import_id)
            await connection.subscribe(progress_subject, cb=run.confirmations.on_message)
            await run.send_file(stream, raw, size)
            await run.wait(timeout_s)
        finally:
            await connection.close()
    return run.report
