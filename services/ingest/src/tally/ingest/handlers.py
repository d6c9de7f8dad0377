"""The ingest consumers: video batches, answers, users seen, feedback and the admin audit
(durable JetStream pull).

Each is a small handler on a router made by :func:`create_router`; writes go through
:mod:`tally.ingest.store`, failures are settled by :class:`~tally.ingest.delivery.Delivery`.
"""

from typing import Annotated, Any

from faststream import Context
from faststream.exceptions import NackMessage
from faststream.middlewares import AckPolicy
from faststream.nats import JStream, NatsRouter, PullSub
from faststream.nats.annotations import NatsBroker, NatsMessage
from faststream.nats.message import NatsBatchMessage
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.chatstore.write.writer import refuses_the_data
from tally.contracts.events import (
    AdminAuditEvent,
    AnswerFeedback,
    BatchStored,
    DeadLetter,
    QuestionAnswered,
    UserSeen,
    VideoBatch,
    utcnow,
)
from tally.contracts.subjects import (
    ANSWERS_DURABLE,
    AUDIT_DURABLE,
    FEEDBACK_DURABLE,
    USERS_DURABLE,
    VIDEOS_DURABLE,
    Subjects,
)
from tally.infra.telemetry import batch_span
from tally.ingest import store
from tally.ingest.config import IngestSettings
from tally.ingest.delivery import RETRYABLE, Delivery
from tally.ingest.domain.rows import (
    Row,
    answer_letter,
    batch_rows,
    bot_user_row,
    parse_answers,
    question_row,
)
from tally.ingest.metrics import IngestMetrics
from tally.ingest.versions import move_versions
from tally.runtime.deadletter import publish_dead_letter

ANSWERS_BATCH = 200
"""Answers logged per fetch and INSERT: one transaction per batch, not per question."""


def create_router(
    settings: IngestSettings, *, engine: AsyncEngine, metrics: IngestMetrics
) -> NatsRouter:
    """A router with ingest's durable pull consumers (video batches, answers, users seen,
    feedback, admin audit) writing through ``engine``.

    Messages are acked after the transaction commits (AckPolicy.NACK_ON_ERROR); a video
    batch, once its datasets' versions moved (which invalidates the answers cached over them).
    """
    subjects = Subjects(settings.subject_prefix)
    delivery = Delivery(settings, metrics)
    router = NatsRouter()
    video_stats = JStream(subjects.video_stats_stream, declare=False)
    activity = JStream(subjects.activity_stream, declare=False)
    # One message per fetch: FastStream runs the messages of one fetch concurrently, and a
    # batch's snapshots must not race the batch holding their video.
    pull = PullSub(batch_size=1, timeout=5.0)
    policy = AckPolicy.NACK_ON_ERROR

    @router.subscriber(
        subjects.video_batch,
        stream=video_stats,
        durable=VIDEOS_DURABLE,
        pull_sub=pull,
        ack_policy=policy,
    )
    async def store_batch(message: NatsMessage, broker: NatsBroker) -> None:
        batch = await delivery.parse(VideoBatch, message, broker, "video_batch")
        videos, snapshots = batch_rows(batch)
        with metrics.batch_seconds.time():
            upsert = store.upsert_videos(engine=engine, videos=videos, snapshots=snapshots)
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

    @router.subscriber(
        subjects.answers_all,
        stream=activity,
        durable=ANSWERS_DURABLE,
        pull_sub=PullSub(batch_size=ANSWERS_BATCH, timeout=0.5, batch=True),
        ack_policy=policy,
    )
    async def log_answers(
        payloads: list[Any],
        broker: NatsBroker,
        fetch: Annotated[NatsBatchMessage, Context("message")],
    ) -> None:
        fetched = fetch.raw_message
        with batch_span("ingest answers batch", (message.headers for message in fetched)):
            answers, invalid = parse_answers(
                payloads,
                subjects=[message.subject for message in fetched],
                headers=[message.headers for message in fetched],
            )
            await store_answers(answers, invalid, broker)

    async def store_answers(
        answers: list[QuestionAnswered], invalid: list[DeadLetter], broker: NatsBroker
    ) -> None:
        for letter in invalid:
            await publish_dead_letter(broker, subjects, letter, kind="validation")
            metrics.handled("answer", "dead_letter")
        rows = [question_row(answer, answered_at=utcnow()) for answer in answers]
        try:
            added = await store.insert_questions(engine=engine, rows=rows)
        except SQLAlchemyError as error:
            if isinstance(error, RETRYABLE) or not refuses_the_data(error):
                metrics.handled("answer", "retried")
                raise NackMessage(delay=settings.retry_delay_s) from error
            added = await store_one_by_one(answers, rows, broker)
        metrics.handled("answer", "stored", added)
        metrics.handled("answer", "duplicate", len(rows) - added)

    async def store_one_by_one(
        answers: list[QuestionAnswered], rows: list[Row], broker: NatsBroker
    ) -> int:
        """Insert ``rows`` one at a time (the database refused a value in one of them):
        each refused row's answer becomes a dead letter; returns the rows added."""
        added = 0
        for answer, row in zip(answers, rows, strict=True):
            try:
                added += await store.insert_questions(engine=engine, rows=[row])
            except SQLAlchemyError as error:
                if isinstance(error, RETRYABLE) or not refuses_the_data(error):
                    raise NackMessage(delay=settings.retry_delay_s) from error
                letter = answer_letter(answer, subjects, f"database refused it: {error}")
                await publish_dead_letter(broker, subjects, letter, kind="database")
                metrics.handled("answer", "dead_letter")
        return added

    @router.subscriber(
        subjects.user_seen, stream=activity, durable=USERS_DURABLE, pull_sub=pull, ack_policy=policy
    )
    async def remember_user(message: NatsMessage, broker: NatsBroker) -> None:
        seen = await delivery.parse(UserSeen, message, broker, "user_seen")
        await delivery.write(
            store.upsert_bot_user(engine=engine, row=bot_user_row(seen)),
            message,
            broker,
            "user_seen",
        )
        metrics.handled("user_seen", "stored")

    @router.subscriber(
        subjects.feedback,
        stream=activity,
        durable=FEEDBACK_DURABLE,
        pull_sub=pull,
        ack_policy=policy,
    )
    async def record_feedback(message: NatsMessage, broker: NatsBroker) -> None:
        feedback = await delivery.parse(AnswerFeedback, message, broker, "feedback")
        write = store.record_feedback(engine=engine, feedback=feedback)
        await delivery.write(write, message, broker, "feedback")
        metrics.handled("feedback", "stored")

    @router.subscriber(
        subjects.admin_audit,
        stream=activity,
        durable=AUDIT_DURABLE,
        pull_sub=pull,
        ack_policy=policy,
    )
    async def record_admin_audit(message: NatsMessage, broker: NatsBroker) -> None:
        audit = await delivery.parse(AdminAuditEvent, message, broker, "admin_audit")
        write = store.insert_admin_audit(engine=engine, audit=audit)
        added = await delivery.write(write, message, broker, "admin_audit")
        metrics.handled("admin_audit", "stored" if added else "duplicate")

    return router
