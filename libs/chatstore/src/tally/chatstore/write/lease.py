"""One ingest replica at a time writes chat events: a lease in a JetStream key-value bucket.

Chat events are applied in stream order (see ``domain.stream_order``). Two replicas pulling
the one durable consumer split each fetch between them, and the events one naks come back
interleaved with the other's, so each fetch continues the stored run by a few events only:
measured by tests/chaos/test_replica_killed.py, two replicas stored about 50 events/s where
one stores thousands. So the replica holding the lease consumes chat events and the others
stand by with their chat subscriber stopped (they still consume everything else).

The lease is the key ``chats`` of the bucket ``<PREFIX>_INGEST_LEASE``, whose values expire
``chat_lease_ttl_s`` after they were written. The holder rewrites it every third of that
(compare-and-set on its revision); a standby tries to create it just as often. A holder
killed with SIGKILL is replaced within the TTL; one stopped cleanly deletes the key, so a
standby takes over at once. Its unacknowledged fetch still comes back only after the
consumer's AckWait: until then the new holder naks the newer events (StreamOrder).
"""

import asyncio
import contextlib
from typing import Final, Protocol
from uuid import uuid4

import nats.errors
import structlog
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig
from nats.js.errors import BadRequestError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

log = structlog.get_logger(__name__)
KEY: Final = "chats"


class Switchable(Protocol):
    """What the lease switches: a FastStream subscriber (its ``start`` and ``stop``)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class ChatLease:
    """Starts ``subscriber`` (a FastStream subscriber) while this process holds the lease
    and stops it while another does. ``ttl_s`` in seconds; ``replicas`` is how many servers of
    a NATS cluster keep the lease bucket (STREAM_REPLICAS, as for the streams), so the lease
    outlives a node."""

    def __init__(self, bucket: str, *, ttl_s: float, replicas: int = 1) -> None:
        self.bucket, self.ttl_s, self.replicas = bucket, ttl_s, replicas
        self.owner = uuid4().hex
        self.subscriber: Switchable | None = None
        self.revision: int | None = None
        self._kv: KeyValue | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def held(self) -> bool:
        return self.revision is not None

    async def start(self, js: JetStreamContext) -> None:
        """Try for the lease once (stopping the subscriber when another holds it), then keep
        trying, or renewing, in the background."""
        config = KeyValueConfig(
            bucket=self.bucket, history=1, ttl=self.ttl_s, replicas=self.replicas
        )
        try:
            self._kv = await js.create_key_value(config)
        except BadRequestError:  # made with another TTL: JetStream keeps the first
            log.warning("chat events lease bucket exists with another TTL", bucket=self.bucket)
            self._kv = await js.key_value(self.bucket)
        assert self.subscriber is not None, "set the subscriber before start"
        await self._turn()
        if not self.held:
            await self.subscriber.stop()
        self._task = asyncio.create_task(self._keep())

    async def stop(self) -> None:
        """Stop renewing; give the lease up so a standby takes over at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._kv is not None and self.held:
            with contextlib.suppress(nats.errors.Error):
                await self._kv.delete(KEY, last=self.revision)

    async def _keep(self) -> None:
        assert self.subscriber is not None
        while True:
            await asyncio.sleep(self.ttl_s / 3)
            was_held = self.held
            await self._turn()
            if self.held and not was_held:
                log.info("chat events lease taken: this replica writes chat events")
                await self.subscriber.start()
            elif was_held and not self.held:
                log.warning("chat events lease lost: standing by")
                await self.subscriber.stop()

    async def _turn(self) -> None:
        """Renew the lease when held, else try to create it; on any failure, not held."""
        assert self._kv is not None
        try:
            if self.revision is not None:
                self.revision = await self._kv.update(KEY, self.owner.encode(), self.revision)
            else:
                self.revision = await self._kv.create(KEY, self.owner.encode())
        except (KeyWrongLastSequenceError, nats.errors.Error, TimeoutError):
            self.revision = None
