"""Ingest invalidates cached answers: a stored batch moves the versions of the datasets it
wrote, before it confirms the batch."""

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from nats.aio.client import Client
from nats.js.errors import KeyNotFoundError
from nats.js.kv import KeyValue

from tally.contracts.cache import version_key
from tally.contracts.events import BatchStored, SnapshotRecord, VideoBatch, VideoRecord
from tally.contracts.subjects import Subjects
from tally.semantic.plan import Dataset

pytestmark = pytest.mark.usefixtures("ingest", "clean_videos")
STAMP = datetime(2025, 11, 2, tzinfo=UTC)
COUNTERS = ("views_count", "likes_count", "comments_count", "reports_count")


def a_video() -> VideoRecord:
    return VideoRecord(
        id=uuid4(),
        creator_id="versions",
        video_created_at=STAMP,
        **dict.fromkeys(COUNTERS, 1),
        created_at=STAMP,
        updated_at=STAMP,
    )


def a_snapshot(video: VideoRecord) -> SnapshotRecord:
    return SnapshotRecord(
        id=uuid4().hex,
        video_id=video.id,
        **dict.fromkeys(COUNTERS, 1),
        **{f"delta_{name}": 1 for name in COUNTERS},
        created_at=STAMP,
        updated_at=STAMP,
    )


async def versions(bucket: KeyValue) -> dict[Dataset, bytes | None]:
    """The current version token of each dataset (None when it has none)."""
    found: dict[Dataset, bytes | None] = {}
    for dataset in Dataset:
        try:
            found[dataset] = (await bucket.get(version_key(dataset))).value
        except KeyNotFoundError:
            found[dataset] = None
    return found


async def store(nc: Client, subjects: Subjects, batch: VideoBatch) -> None:
    """Publish ``batch`` and wait for ingest to confirm it."""
    stored = await nc.subscribe(subjects.import_progress(batch.import_id))
    await nc.jetstream().publish(subjects.video_batch, batch.model_dump_json().encode())
    BatchStored.model_validate_json((await stored.next_msg(timeout=15)).data)
    await stored.unsubscribe()


async def test_a_stored_batch_moves_the_versions_of_what_it_wrote(
    nc: Client, subjects: Subjects
) -> None:
    """Videos move ``version.videos`` only, snapshots ``version.video_snapshots`` only, and
    both are moved by the time the batch is confirmed."""
    bucket = await nc.jetstream().key_value(subjects.answers_bucket)
    video, import_id = a_video(), uuid4().hex
    before = await versions(bucket)

    await store(nc, subjects, VideoBatch(import_id=import_id, batch_no=0, videos=(video,)))
    after_videos = await versions(bucket)
    snapshots = (a_snapshot(video),)
    await store(nc, subjects, VideoBatch(import_id=import_id, batch_no=1, snapshots=snapshots))
    after_snapshots = await versions(bucket)

    assert after_videos[Dataset.VIDEOS] not in (None, before[Dataset.VIDEOS])
    assert after_videos[Dataset.SNAPSHOTS] == before[Dataset.SNAPSHOTS]
    assert after_snapshots[Dataset.SNAPSHOTS] not in (None, before[Dataset.SNAPSHOTS])
    assert after_snapshots[Dataset.VIDEOS] == after_videos[Dataset.VIDEOS]
