"""The ACTIVITY consumers: answers (see :mod:`.answers`), users seen, feedback and the admin
audit, each a durable JetStream pull consumer.

Messages are acked after their transaction commits (``AckPolicy.NACK_ON_ERROR``); failures
are settled by :class:`~tally.ingest.delivery.Delivery`.
"""

from faststream import AckPolicy
from faststream.nats import JStream, NatsRoute, NatsRouter, PullSub
from faststream.nats.annotations import NatsBroker, NatsMessage

from tally.contracts.events import AdminAuditEvent, AnswerFeedback, UserSeen
from tally.contracts.subjects import (
    ANSWERS_DURABLE,
    AUDIT_DURABLE,
    FEEDBACK_DURABLE,
    USERS_DURABLE,
    Subjects,
)
from tally.ingest.activity import store
from tally.ingest.activity.answers import ANSWERS_BATCH, log_answers
from tally.ingest.activity.domain.rows import bot_user_row
from tally.ingest.deps import DeliveryDep, EngineDep, MetricsDep


async def remember_user(
    message: NatsMessage,
    broker: NatsBroker,
    engine: EngineDep,
    metrics: MetricsDep,
    delivery: DeliveryDep,
) -> None:
    """Add or refresh the bot user a UserSeen names."""
    seen = await delivery.parse(UserSeen, message, broker, "user_seen")
    write = store.upsert_bot_user(engine=engine, row=bot_user_row(seen))
    await delivery.write(write, message, broker, "user_seen")
    metrics.handled("user_seen", "stored")


async def record_feedback(
    message: NatsMessage,
    broker: NatsBroker,
    engine: EngineDep,
    metrics: MetricsDep,
    delivery: DeliveryDep,
) -> None:
    """Store a 👍/👎 on its question's log row (retried until the answer is logged)."""
    feedback = await delivery.parse(AnswerFeedback, message, broker, "feedback")
    write = store.record_feedback(engine=engine, feedback=feedback)
    await delivery.write(write, message, broker, "feedback")
    metrics.handled("feedback", "stored")


async def record_admin_audit(
    message: NatsMessage,
    broker: NatsBroker,
    engine: EngineDep,
    metrics: MetricsDep,
    delivery: DeliveryDep,
) -> None:
    """Add one use of an admin command or alert button to ``admin_audit`` (once)."""
    audit = await delivery.parse(AdminAuditEvent, message, broker, "admin_audit")
    write = store.insert_admin_audit(engine=engine, audit=audit)
    added = await delivery.write(write, message, broker, "admin_audit")
    metrics.handled("admin_audit", "stored" if added else "duplicate")


def create_router(subjects: Subjects) -> NatsRouter:
    """The ACTIVITY consumers of ``subjects``' deployment: answers in fetches of
    ANSWERS_BATCH, the others one message per fetch."""
    activity = JStream(subjects.activity_stream, declare=False)
    policy = AckPolicy.NACK_ON_ERROR
    answers = PullSub(batch_size=ANSWERS_BATCH, timeout=0.5, batch=True)
    one = PullSub(batch_size=1, timeout=5.0)
    return NatsRouter(
        handlers=[
            NatsRoute(
                log_answers,
                subjects.answers_all,
                stream=activity,
                durable=ANSWERS_DURABLE,
                pull_sub=answers,
                ack_policy=policy,
            ),
            *(
                NatsRoute(
                    call,
                    subject,
                    stream=activity,
                    durable=durable,
                    pull_sub=one,
                    ack_policy=policy,
                )
                for call, subject, durable in (
                    (remember_user, subjects.user_seen, USERS_DURABLE),
                    (record_feedback, subjects.feedback, FEEDBACK_DURABLE),
                    (record_admin_audit, subjects.admin_audit, AUDIT_DURABLE),
                )
            ),
        ]
    )
