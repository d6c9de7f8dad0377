"""The digest scheduler: each chat's opted-in /stats card, once per period, whatever the
number of alerts replicas (tally.contracts.digests).

Every ``interval_s`` seconds it lists the digests bucket and, for each chat whose latest
complete period (on the chat's calendar: its zone from the chat settings bucket, UTC without)
was not sent, claims the period with a compare-and-set update of the entry on the revision it
read. Only the replica whose update lands goes on: it asks the executor for the chat's
``stats`` report of the period and publishes :class:`DigestReady` for the gateway. When the
report cannot be had, the claim is given back (``last_sent`` as it was, again by
compare-and-set) so the next pass tries again; a process that dies between the claim and the
publish loses that period's digest (at most once: never twice).
"""

import asyncio
import contextlib
from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import nats.errors
import structlog
from faststream.nats import NatsBroker
from nats.js import JetStreamContext
from nats.js.errors import (
    BucketNotFoundError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
    NoKeysError,
)
from nats.js.kv import KeyValue
from prometheus_client import CollectorRegistry, Counter
from pydantic import ValidationError

from tally.contracts.chat_events import ChatSettings
from tally.contracts.chat_reports import ChatReport, ChatReportRequested
from tally.contracts.digests import DigestEntry, DigestReady, due
from tally.contracts.events import utcnow
from tally.contracts.streams import digests_config
from tally.contracts.subjects import Subjects
from tally.runtime.metrics import zero

DIGEST_INTERVAL_S: Final = 60.0
"""How often the bucket is looked at (seconds): a digest goes out within a minute of its
period's end."""
REPORT_TIMEOUT_S: Final = 10.0
UTC_ZONE: Final = ZoneInfo("UTC")
log = structlog.get_logger(__name__)


class DigestMetrics:
    """``tally_digests_total{outcome}``: sent, lost (another replica's claim), failed."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.digests = Counter(
            "tally_digests_total", "Chat digest claims by outcome", ["outcome"], registry=registry
        )
        zero(self.digests, outcome=("sent", "lost", "failed"))


async def digests_bucket(js: JetStreamContext, subjects: Subjects) -> KeyValue:
    """The digests bucket, created (history 1) when missing."""
    try:
        return await js.key_value(subjects.digests_bucket)
    except BucketNotFoundError:
        return await js.create_key_value(digests_config(subjects))


class DigestScheduler:
    """Claims and sends due digests (:meth:`tick`), periodically (:meth:`run`)."""

    def __init__(
        self,
        broker: NatsBroker,
        subjects: Subjects,
        metrics: DigestMetrics,
        *,
        interval_s: float = DIGEST_INTERVAL_S,
        report_timeout_s: float = REPORT_TIMEOUT_S,
    ) -> None:
        self.broker, self.subjects, self.metrics = broker, subjects, metrics
        self.interval_s, self.report_timeout_s = interval_s, report_timeout_s
        self._bucket: KeyValue | None = None
        self._settings: KeyValue | None = None

    async def _open(self) -> KeyValue:
        if self._bucket is None:
            js = self.broker.connection.jetstream()
            self._bucket = await digests_bucket(js, self.subjects)
        return self._bucket

    async def _zone(self, chat_id: int) -> tuple[str, ZoneInfo]:
        """The chat's zone from the chat settings bucket (UTC when it has none, or an unknown
        one)."""
        name = "UTC"
        try:
            if self._settings is None:
                js = self.broker.connection.jetstream()
                self._settings = await js.key_value(self.subjects.chat_settings_bucket)
            entry = await self._settings.get(str(chat_id))
            if entry.value:
                name = ChatSettings.model_validate_json(entry.value).timezone
        except (nats.errors.Error, ValidationError):
            name = "UTC"
        try:
            return name, ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            return "UTC", UTC_ZONE

    async def tick(self, now: datetime) -> int:
        """One pass at ``now`` (aware): the digests this replica claimed and published."""
        bucket = await self._open()
        try:
            keys = await bucket.keys()
        except NoKeysError:
            return 0
        sent = 0
        for key in keys:
            try:
                sent += await self._consider(bucket, key, now)
            except (nats.errors.Error, TimeoutError) as error:
                log.warning("digest not sent", key=key, error=repr(error)[:300])
                self.metrics.digests.labels("failed").inc()
        return sent

    async def _consider(self, bucket: KeyValue, key: str, now: datetime) -> int:
        try:
            found = await bucket.get(key)
        except KeyNotFoundError:
            return 0
        if not found.value or found.revision is None:
            return 0
        try:
            entry = DigestEntry.model_validate_json(found.value)
        except ValidationError:
            log.warning("digest entry unreadable", key=key)
            return 0
        zone_name, zone = await self._zone(entry.chat_id)
        period = due(entry, now, zone)
        if period is None or entry.schedule is None:
            return 0
        first, last = period
        claimed = entry.model_copy(update={"last_sent": last})
        try:
            revision = await bucket.update(
                key, claimed.model_dump_json().encode(), last=found.revision
            )
        except KeyWrongLastSequenceError:  # another replica (or a /digest) came first
            self.metrics.digests.labels("lost").inc()
            return 0
        report = await self._report(entry, first, last, zone_name)
        if report is None:
            with contextlib.suppress(KeyWrongLastSequenceError):
                await bucket.update(key, found.value, last=revision)
            self.metrics.digests.labels("failed").inc()
            return 0
        ready = DigestReady(
            chat_id=entry.chat_id,
            schedule=entry.schedule,
            language=entry.language,
            first=first,
            last=last,
            report=report,
            timezone=zone_name,
        )
        await self.broker.publish(ready, self.subjects.digest_ready)
        self.metrics.digests.labels("sent").inc()
        log.info("digest sent", chat_id=entry.chat_id, schedule=entry.schedule, last=str(last))
        return 1

    async def _report(
        self, entry: DigestEntry, first: date, last: date, zone: str
    ) -> ChatReport | None:
        """The executor's ``stats`` report of ``first`` to ``last``, or None (logged)."""
        request = ChatReportRequested.model_validate(
            {
                "chat_id": entry.chat_id,
                "kind": "stats",
                "first": first,
                "last": last,
                "language": entry.language,
                "timezone": zone,
            }
        )
        try:
            response = await self.broker.request(
                request, self.subjects.chat_report, timeout=self.report_timeout_s
            )
            return ChatReport.model_validate_json(response.body)
        except (TimeoutError, nats.errors.Error, ValidationError) as error:
            log.warning("digest report failed", chat_id=entry.chat_id, error=repr(error)[:300])
            return None

    async def run(self) -> None:
        """Pass every ``interval_s`` until cancelled; a failed pass is logged, the next runs."""
        while True:
            try:
                await self.tick(utcnow())
            except Exception:  # a failed pass must not stop later ones
                log.exception("digest pass failed")
            await asyncio.sleep(self.interval_s)
