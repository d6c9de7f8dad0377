"""The answer cache's shared vocabulary: its bucket, dataset versions and answer keys.

One JetStream key-value bucket per deployment (``subjects.answers_bucket``) holds two kinds
of keys:

* ``version.{dataset}``: an opaque token, replaced by ingest after every transaction that
  changed the dataset, before it confirms the batch (created by the executor when missing);
* ``answer.{sha256 of the normalised plan}``: a :class:`CachedAnswer`, with the versions of
  the datasets it was computed from.

An entry answers a plan only while those versions are still the current ones, so
invalidation is just "a version moved". The executor reads an entry and the versions in one
round trip (parallel gets), so a question asked after ingest confirmed a batch never gets an
answer from before it. An entry recomputed replaces the old one (one value per key); entries
of plans no longer asked age out with the bucket's max age.
"""

import hashlib
import json
from collections.abc import Iterable
from datetime import UTC
from typing import Any
from uuid import uuid4

from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig
from nats.js.errors import BucketNotFoundError, NotFoundError
from nats.js.kv import KeyValue
from pydantic import BaseModel, ConfigDict, Field

from tally.contracts.events import GroupRow
from tally.contracts.subjects import Subjects
from tally.semantic.plan import Dataset, QueryPlan

VERSION_PREFIX = "version."
ANSWER_PREFIX = "answer."
DEFAULT_TTL_S = 3600.0


class CachedAnswer(BaseModel):
    """What the executor keeps of an ``answered`` QuestionAnswered (value or rows, SQL,
    parameters), and the version of each dataset read (``{"version.videos": token}``) when
    it was computed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    versions: dict[str, str]
    value: int | float | None
    rows: tuple[GroupRow, ...] = ()
    sql: str | None = None
    params: dict[str, str | int | float] = Field(default_factory=dict)
    row_count: int = 0


def version_key(dataset: Dataset) -> str:
    """``version.videos`` or ``version.video_snapshots``."""
    return f"{VERSION_PREFIX}{dataset.value}"


def new_version() -> bytes:
    """A fresh version token (random, so never reused)."""
    return uuid4().hex.encode()


def normalised(plan: QueryPlan) -> dict[str, Any]:
    """``plan`` as JSON-ready data without what does not change its answer: no
    ``interpretation``, filters in a fixed order, time bounds in UTC."""
    if plan.time_range is not None:
        bounds = {"start": plan.time_range.start.astimezone(UTC)}
        bounds["end"] = plan.time_range.end.astimezone(UTC)
        plan = plan.model_copy(update={"time_range": plan.time_range.model_copy(update=bounds)})
    data = plan.model_dump(mode="json", exclude={"interpretation"})
    data["filters"] = sorted(data["filters"], key=lambda f: json.dumps(f, sort_keys=True))
    return data


def answer_key(plan: QueryPlan) -> str:
    """``answer.{sha256 hex}`` of the normalised plan: the same for every wording of it."""
    text = json.dumps(normalised(plan), sort_keys=True, separators=(",", ":"))
    return ANSWER_PREFIX + hashlib.sha256(text.encode()).hexdigest()


def bucket_config(
    subjects: Subjects, *, ttl_s: float = DEFAULT_TTL_S, replicas: int = 1
) -> KeyValueConfig:
    """The answers bucket: one value per key, entries dropped ``ttl_s`` seconds after their
    write, kept on ``replicas`` servers, direct gets (any replica answers a read)."""
    return KeyValueConfig(
        bucket=subjects.answers_bucket, history=1, ttl=ttl_s, direct=True, replicas=replicas
    )


async def ensure_bucket(
    js: JetStreamContext, subjects: Subjects, *, ttl_s: float = DEFAULT_TTL_S, replicas: int = 1
) -> None:
    """Create the answers bucket when missing (an existing one, its TTL and replicas, is
    kept)."""
    try:
        await js.key_value(subjects.answers_bucket)
    except BucketNotFoundError:
        await js.create_key_value(bucket_config(subjects, ttl_s=ttl_s, replicas=replicas))


async def delete_bucket(js: JetStreamContext, subjects: Subjects) -> None:
    """Remove the answers bucket when it exists (test clean-up)."""
    try:
        await js.delete_key_value(subjects.answers_bucket)
    except NotFoundError:
        return


async def publish_versions(bucket: KeyValue, datasets: Iterable[Dataset]) -> None:
    """Give each of ``datasets`` a new version token; call it after the change committed.

    Raises ``nats.errors.Error`` (``nats.js.errors.BucketNotFoundError`` when the bucket is
    gone) when JetStream does not store a token.
    """
    for dataset in sorted(set(datasets)):
        await bucket.put(version_key(dataset), new_version())
