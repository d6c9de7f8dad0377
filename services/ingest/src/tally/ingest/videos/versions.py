"""Invalidation of cached answers: after a batch commits, the datasets it changed get new
versions in the answers bucket (tally.contracts.cache), which moves the cache key of every plan
reading them."""

import nats.errors
import structlog
from faststream.nats import NatsBroker
from nats.js.errors import BucketNotFoundError

from tally.contracts.cache import publish_versions
from tally.contracts.events import VideoBatch
from tally.contracts.subjects import Subjects
from tally.ingest.delivery import NotYetWritableError
from tally.semantic.plan import Dataset

log = structlog.get_logger(__name__)


class VersionsNotMovedError(NotYetWritableError):
    """JetStream did not store a changed dataset's new version (the batch is retried)."""


def changed_datasets(batch: VideoBatch) -> set[Dataset]:
    """The datasets ``batch`` writes: ``videos`` when it has videos, ``video_snapshots`` when
    it has snapshots."""
    changed = {Dataset.VIDEOS} if batch.videos else set()
    return changed | ({Dataset.SNAPSHOTS} if batch.snapshots else set())


async def move_versions(broker: NatsBroker, subjects: Subjects, batch: VideoBatch) -> None:
    """Give the datasets ``batch`` changed new versions; call it once the batch committed.

    Without an answers bucket nothing is cached, so nothing is done. Raises
    VersionsNotMovedError when JetStream does not store a version.
    """
    datasets = changed_datasets(batch)
    if not datasets:
        return
    try:
        bucket = await broker.key_value(subjects.answers_bucket, declare=False)
        await publish_versions(bucket, datasets)
    except BucketNotFoundError:
        log.warning("no answers bucket: no cached answer to invalidate")
    except (nats.errors.Error, OSError) as error:
        raise VersionsNotMovedError(f"dataset versions not moved: {error!r}") from error
