"""The VIDEO_STATS consumer: one video batch at a time, upserted, then confirmed.

A batch is acked after its transaction commits (``AckPolicy.NACK_ON_ERROR``) and its
datasets' versions moved (which invalidates the answers cached over them); failures are
settled by :class:`~tally.ingest.delivery.Delivery`.
"""

from faststream import AckPolicy
from faststream.nats import JStream, NatsRoute, NatsRouter, PullSub
from faststream.nats.annotations import NatsBroker, NatsMessage

from tally.contracts.events import BatchStored, VideoBatch
from tally.contracts.subjects import VIDEOS_DURABLE, Subjects
from tally.ingest.deps import DeliveryDep, EngineDep, MetricsDep, SubjectsDep
from tally.ingest.videos.domain.rows import batch_rows
from tally.ingest.videos.store import upsert_videos
from tally.ingest.videos.versions import move_versions
from tally.runtime.metrics import observe_seconds


async def store_batch(
    message: NatsMessage,
    broker: NatsBroker,
    engine: EngineDep,
    subjects: SubjectsDep,
    metrics: MetricsDep,
    delivery: DeliveryDep,
) -> None:
    """Upsert one VideoBatch, move its datasets' versions, publish BatchStored on the
    import's progress subject. Raises NackMessage / RejectMessage (see Delivery)."""
    batch = await delivery.parse(VideoBatch, message, broker, "video_batch")
    videos, snapshots = batch_rows(batch)
    with observe_seconds(metrics.batch_seconds):
        upsert = upsert_videos(engine=engine, videos=videos, snapshots=snapshots)
        await delivery.write(upsert, message, broker, "video_batch")
    moved = move_versions(broker, subjects, batch)
    await delivery.write(moved, message, broker, "video_batch")
    stored = BatchStored(
        import_id=batch.import_id,
        batch_no=batch.batch_no,
        videos=len(videos),
        snapshots=len(snapshots),
    )
    await broker.publish(stored, subjects.import_progress(batch.import_id))
    metrics.handled("video_batch", "stored")


def create_router(subjects: Subjects) -> NatsRouter:
    """The VIDEO_STATS consumer (durable ``ingest-videos``) for ``subjects``' deployment.

    One message per fetch: FastStream runs the messages of one fetch concurrently, and a
    batch's snapshots must not race the batch holding their video.
    """
    route = NatsRoute(
        store_batch,
        subjects.video_batch,
        stream=JStream(subjects.video_stats_stream, declare=False),
        durable=VIDEOS_DURABLE,
        pull_sub=PullSub(batch_size=1, timeout=5.0),
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    return NatsRouter(handlers=[route])
