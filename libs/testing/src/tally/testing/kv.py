"""A JetStream key-value bucket in memory, for tests that run without a NATS server.

:class:`MemoryKeyValue` answers nats-py's ``KeyValue`` calls that Tally's services make on a
bucket (get, put, create, update, delete) as a bucket with ``history=1`` does: one revision
counter for the bucket, ``KeyNotFoundError`` for a missing or deleted key, and
``KeyWrongLastSequenceError`` when ``create`` finds the key or ``update`` is given a revision
that is no longer the key's last. No max age: entries stay for the test.
"""

from nats.js.errors import KeyDeletedError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KV_DEL, KeyValue


class MemoryKeyValue(KeyValue):
    """One bucket's entries in a dict (``name`` is the bucket's name in its entries)."""

    def __init__(self, name: str = "memory") -> None:  # no JetStream behind it
        self._name = name
        self._entries: dict[str, KeyValue.Entry] = {}
        self._revision = 0

    async def get(
        self, key: str, revision: int | None = None, validate_keys: bool = True
    ) -> KeyValue.Entry:
        entry = self._entries.get(key)
        if entry is None:
            raise KeyNotFoundError
        if entry.operation == KV_DEL:
            raise KeyDeletedError(entry=entry, op=KV_DEL)
        return entry

    async def put(self, key: str, value: bytes, validate_keys: bool = True) -> int:
        return self._store(key, value, None)

    async def create(
        self, key: str, value: bytes, validate_keys: bool = True, msg_ttl: float | None = None
    ) -> int:
        entry = self._entries.get(key)
        if entry is not None and entry.operation != KV_DEL:
            raise KeyWrongLastSequenceError
        return self._store(key, value, None)

    async def update(
        self, key: str, value: bytes, last: int | None = None, validate_keys: bool = True
    ) -> int:
        entry = self._entries.get(key)
        if entry is None or entry.revision != last:
            raise KeyWrongLastSequenceError
        return self._store(key, value, None)

    async def delete(
        self,
        key: str,
        last: int | None = None,
        validate_keys: bool = True,
        msg_ttl: float | None = None,
    ) -> bool:
        self._store(key, None, KV_DEL)
        return True

    def _store(self, key: str, value: bytes | None, operation: str | None) -> int:
        self._revision += 1
        self._entries[key] = KeyValue.Entry(
            self._name, key, value, self._revision, 0, None, operation
        )
        return self._revision
