"""The gateway's copy of every chat's settings, kept current by a JetStream key-value watcher.

Ingest writes each chat's :class:`ChatSettings` as JSON under ``str(chat_id)`` in the bucket
``subjects.chat_settings_bucket``. The gateway only reads: it watches every key and keeps the
latest settings in memory, so deciding whether a message's text may travel costs no round
trip. A chat without a valid entry has the defaults: text off.
"""

import asyncio
import contextlib
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import structlog
from faststream.nats import NatsBroker
from nats.js.errors import BucketNotFoundError
from nats.js.kv import KV_DEL, KV_PURGE, KeyValue
from pydantic import ValidationError

from tally.contracts.chat_events import ChatSettings
from tally.contracts.subjects import Subjects

LOAD_TIMEOUT_S = 5.0
"""How long :meth:`ChatSettingsView.start` waits for the bucket's current entries."""

log = structlog.get_logger(__name__)


async def open_bucket(broker: NatsBroker, subjects: Subjects) -> KeyValue:
    """The chat settings bucket, created when missing (one value per key, kept until replaced
    or deleted); an existing one is kept as it is.

    Raises ``nats.errors.Error`` when JetStream does not answer.
    """
    name = subjects.chat_settings_bucket
    try:
        return await broker.key_value(name, declare=False)
    except BucketNotFoundError:
        return await broker.key_value(name, history=1)


def parse_entry(key: str, value: bytes | None) -> tuple[int, ChatSettings | None] | None:
    """``(chat_id, settings)`` of a bucket entry; settings None for a deleted or invalid
    value (the defaults apply); None for a key that is not a chat id."""
    try:
        chat_id = int(key)
    except ValueError:
        log.warning("chat settings key is not a chat id", key=key)
        return None
    if not value:
        return chat_id, None
    try:
        return chat_id, ChatSettings.model_validate_json(value)
    except ValidationError as error:
        log.warning("invalid chat settings ignored", chat_id=chat_id, error=str(error))
        return chat_id, None


def chat_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; UTC (logged) when there is no such zone."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        log.warning("unknown chat time zone, UTC used", timezone=name)
        return ZoneInfo("UTC")


class ChatSettingsView:
    """Every chat's settings as last written to the bucket, followed while started."""

    def __init__(self) -> None:
        self._settings: dict[int, ChatSettings] = {}
        self._watcher: KeyValue.KeyWatcher | None = None
        self._follow: asyncio.Task[None] | None = None
        self._loaded = asyncio.Event()

    def get(self, chat_id: int) -> ChatSettings:
        """The settings of ``chat_id`` (the defaults when the bucket has none)."""
        return self._settings.get(chat_id) or ChatSettings()

    def assume(self, chat_id: int, settings: ChatSettings) -> None:
        """Take ``settings`` as ``chat_id``'s until the bucket says otherwise: a change just
        published (ingest writes it a moment later), so the next change builds on it."""
        self._settings[chat_id] = settings

    def store_text(self, chat_id: int) -> bool:
        """True when ``chat_id`` allows its message text to be stored."""
        return self.get(chat_id).store_text

    async def start(self, broker: NatsBroker, subjects: Subjects) -> None:
        """Watch the bucket (created when missing; what was seen before is forgotten) and wait
        up to ``LOAD_TIMEOUT_S`` for its current entries; a slower bucket is followed all the
        same, text off until it loads.

        Raises ``nats.errors.Error`` when JetStream does not answer.
        """
        bucket = await open_bucket(broker, subjects)
        self._settings.clear()
        self._loaded.clear()
        self._watcher = await bucket.watchall()
        self._follow = asyncio.create_task(self._apply_updates(self._watcher))
        try:
            await asyncio.wait_for(self._loaded.wait(), LOAD_TIMEOUT_S)
        except TimeoutError:
            log.warning("chat settings not loaded yet", timeout_s=LOAD_TIMEOUT_S)

    async def stop(self) -> None:
        """Stop watching (the settings seen so far stay)."""
        if self._watcher is not None:
            await self._watcher.stop()  # type: ignore[no-untyped-call]  # nats-py leaves it untyped
        if self._follow is not None:
            self._follow.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follow

    async def _apply_updates(self, watcher: KeyValue.KeyWatcher) -> None:
        async for entry in watcher:
            if entry is None:  # the current entries are all in
                self._loaded.set()
                continue
            deleted = entry.operation in (KV_DEL, KV_PURGE)
            parsed = parse_entry(entry.key, None if deleted else entry.value)
            if parsed is None:
                continue
            chat_id, settings = parsed
            if settings is None:
                self._settings.pop(chat_id, None)
            else:
                self._settings[chat_id] = settings
