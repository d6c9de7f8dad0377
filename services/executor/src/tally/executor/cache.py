"""The executor's answer cache: a plan answered before, over unchanged data, skips the database.

Keys and values are those of :mod:`tally.contracts.cache`. A lookup reads the plan's entry and
the versions of the datasets the plan reads in one round trip (parallel gets); the entry
answers only when the versions it was computed from are the current ones. A dataset without
a version gets one first (the first writer wins).

A get or put that fails or outlasts ``answer_cache_timeout_s`` counts as an error, and the
cache is then bypassed for ``BYPASS_S`` seconds (those lookups count as errors too). The
cache never fails an answer, and a bucket that is gone costs one timeout per ``BYPASS_S``,
not one per question.
"""

import asyncio
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Literal

import nats.errors
import structlog
from faststream.exceptions import IncorrectState
from faststream.nats import NatsBroker
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue
from pydantic import ValidationError

from tally.contracts.cache import CachedAnswer, answer_key, new_version, version_key
from tally.executor.metrics import ExecutorMetrics
from tally.semantic.compiler import datasets_read
from tally.semantic.plan import Dataset, QueryPlan

BYPASS_S = 5.0
"""How long the cache is left alone after a failure (seconds)."""
FAILURES = (nats.errors.Error, OSError, TimeoutError, IncorrectState)
"""What a cache read or write may raise: a timeout, NATS or JetStream down, a bucket gone."""
Result = Literal["hit", "miss", "error"]

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Lookup:
    """A plan's entry ``key``; the current ``versions`` of the datasets it reads (None when
    they could not be read: the answer is then not stored); the cached ``answer`` on a hit."""

    key: str
    versions: dict[str, str] | None = None
    answer: CachedAnswer | None = None


class AnswerCache:
    """Cached answers of query plans in ``bucket``, through ``broker``'s NATS connection.

    :meth:`lookup` before running a plan, :meth:`store` after it was answered.
    """

    def __init__(
        self, broker: NatsBroker, *, bucket: str, metrics: ExecutorMetrics, timeout_s: float
    ) -> None:
        self._broker = broker
        self._bucket_name = bucket
        self._metrics = metrics
        self._timeout_s = timeout_s
        self._bypass_until = 0.0

    async def lookup(self, plan: QueryPlan) -> Lookup:
        """``plan``'s entry when it was computed from the current versions of the datasets
        the plan reads; never raises."""
        key, datasets = answer_key(plan), sorted(datasets_read(plan))
        if asyncio.get_running_loop().time() < self._bypass_until:
            self._count("error")
            return Lookup(key)
        try:
            async with asyncio.timeout(self._timeout_s):
                entry, versions = await self._read(key, datasets)
        except FAILURES as error:
            self._failed(error)
            return Lookup(key)
        if versions is None:
            self._count("miss")
            return Lookup(key)
        return self._found(key, versions, entry)

    async def store(self, key: str, answer: CachedAnswer) -> None:
        """Keep ``answer`` under ``key``; a failure is counted and logged, never raised."""
        try:
            async with asyncio.timeout(self._timeout_s):
                bucket = await self._bucket()
                await bucket.put(key, answer.model_dump_json().encode())
        except FAILURES as error:
            self._failed(error)

    async def _read(
        self, key: str, datasets: Sequence[Dataset]
    ) -> tuple[bytes | None, dict[str, str] | None]:
        """The entry under ``key`` and the versions of ``datasets`` by key, in one round trip;
        a version found missing is created first (None if it still cannot be read)."""
        bucket = await self._bucket()
        keys = [key, *(version_key(dataset) for dataset in datasets)]
        entry, *tokens = await asyncio.gather(*(_value(bucket, name) for name in keys))
        versions = dict(zip(keys[1:], tokens, strict=True))
        for name in [name for name, token in versions.items() if token is None]:
            with suppress(KeyWrongLastSequenceError):  # another executor made it first
                await bucket.create(name, new_version())
            versions[name] = await _value(bucket, name)
        if None in versions.values():
            return entry, None
        return entry, {name: (token or b"").decode() for name, token in versions.items()}

    def _found(self, key: str, versions: dict[str, str], entry: bytes | None) -> Lookup:
        try:
            cached = CachedAnswer.model_validate_json(entry) if entry else None
        except ValidationError:
            cached = None  # written by another version of Tally: recomputed and replaced
        hit = cached if cached is not None and cached.versions == versions else None
        self._count("miss" if hit is None else "hit")
        return Lookup(key, versions, hit)

    async def _bucket(self) -> KeyValue:
        return await self._broker.key_value(self._bucket_name, declare=False)

    def _count(self, result: Result) -> None:
        self._metrics.cache.labels(result).inc()

    def _failed(self, error: BaseException) -> None:
        self._count("error")
        log.warning("answer cache unavailable", error=f"{type(error).__name__}: {error}"[:200])
        self._bypass_until = asyncio.get_running_loop().time() + BYPASS_S


async def _value(bucket: KeyValue, key: str) -> bytes | None:
    """The value under ``key``; None when there is none (or it was deleted)."""
    try:
        return (await bucket.get(key)).value
    except KeyNotFoundError:
        return None
