"""The JetStream streams and key-value buckets of one deployment: their configuration, and
declaring (or, in tests, deleting) them. The subjects each stream keeps are in
:mod:`tally.contracts.subjects`.
"""

import contextlib

from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StreamConfig
from nats.js.errors import BucketNotFoundError, NotFoundError

from tally.contracts.cache import DEFAULT_TTL_S, delete_bucket, ensure_bucket
from tally.contracts.subjects import Subjects

ACTIVITY_MAX_AGE_S = 7 * 24 * 3600
"""Answers, users seen and alerts stay in their stream for a week (replayable into the log)."""

CHAT_EVENTS_DUPLICATE_WINDOW_S = 3600.0
"""How long JetStream remembers a chat event's ``Nats-Msg-Id``: an hour covers a gateway that
restarts and is handed the same Telegram updates again; ingest's upserts cover the rest."""

GATEWAY_STATE_MAX_AGE_S = 24 * 3600.0
"""How long an entry of the gateways' shared state lives after its last write: a day, so
readings offered for an ambiguous question can be picked (and /sql shows a chat's last
answer) for a day; a throttle entry is stale after seconds and simply ages out."""


def stream_configs(subjects: Subjects, *, replicas: int = 1) -> list[StreamConfig]:
    """The JetStream streams of one deployment (file storage, limits retention), each kept
    on ``replicas`` servers of the cluster (``STREAM_REPLICAS``; docs/scaling.md); in the
    order of ``Subjects.streams``."""
    return [
        StreamConfig(
            name=subjects.video_stats_stream,
            subjects=subjects.video_stats_subjects,
            num_replicas=replicas,
        ),
        StreamConfig(
            name=subjects.activity_stream,
            subjects=subjects.activity_subjects,
            max_age=ACTIVITY_MAX_AGE_S,
            num_replicas=replicas,
        ),
        StreamConfig(
            name=subjects.dead_letter_stream,
            subjects=subjects.dead_letter_subjects,
            num_replicas=replicas,
        ),
        StreamConfig(
            name=subjects.chat_events_stream,
            subjects=subjects.chat_events_subjects,
            duplicate_window=CHAT_EVENTS_DUPLICATE_WINDOW_S,
            num_replicas=replicas,
        ),
    ]


async def ensure_streams(
    js: JetStreamContext,
    subjects: Subjects,
    *,
    answers_ttl_s: float = DEFAULT_TTL_S,
    replicas: int = 1,
) -> None:
    """Create the streams, the answers bucket (entries live ``answers_ttl_s`` seconds) and
    the chat settings, digests and gateway state buckets that do not exist yet, on
    ``replicas`` servers each; leave existing ones (their data and replica count) alone.

    Raises ``nats.js.errors.APIError`` when JetStream cannot keep ``replicas`` copies
    (more than the cluster's servers, or above 1 on a server that is not clustered).
    """
    for config in stream_configs(subjects, replicas=replicas):
        try:
            await js.stream_info(config.name or "")
        except NotFoundError:
            await js.add_stream(config)
    await ensure_bucket(js, subjects, ttl_s=answers_ttl_s, replicas=replicas)
    try:
        await js.key_value(subjects.chat_settings_bucket)
    except BucketNotFoundError:
        await js.create_key_value(chat_settings_config(subjects, replicas=replicas))
    try:
        await js.key_value(subjects.digests_bucket)
    except BucketNotFoundError:
        await js.create_key_value(digests_config(subjects, replicas=replicas))
    try:
        await js.key_value(subjects.gateway_state_bucket)
    except BucketNotFoundError:
        await js.create_key_value(gateway_state_config(subjects, replicas=replicas))


def chat_settings_config(subjects: Subjects, *, replicas: int = 1) -> KeyValueConfig:
    """The chat settings bucket (written by ingest): one value per key, kept until replaced."""
    return KeyValueConfig(bucket=subjects.chat_settings_bucket, history=1, replicas=replicas)


def digests_config(subjects: Subjects, *, replicas: int = 1) -> KeyValueConfig:
    """The chat digests bucket (tally.contracts.digests): one value per key, kept until
    replaced; updated on the revision read (compare-and-set)."""
    return KeyValueConfig(bucket=subjects.digests_bucket, history=1, replicas=replicas)


def gateway_state_config(subjects: Subjects, *, replicas: int = 1) -> KeyValueConfig:
    """The gateways' shared state bucket: one value per key, dropped
    ``GATEWAY_STATE_MAX_AGE_S`` after its last write, direct gets (any replica answers a
    read); updated on the revision read (compare-and-set)."""
    return KeyValueConfig(
        bucket=subjects.gateway_state_bucket,
        history=1,
        ttl=GATEWAY_STATE_MAX_AGE_S,
        direct=True,
        replicas=replicas,
    )


async def delete_streams(js: JetStreamContext, subjects: Subjects) -> None:
    """Remove every stream and bucket of a deployment (test clean-up)."""
    for config in stream_configs(subjects):
        try:
            await js.delete_stream(config.name or "")
        except NotFoundError:
            continue
    await delete_bucket(js, subjects)
    with contextlib.suppress(NotFoundError):
        await js.delete_key_value(subjects.chat_settings_bucket)
    with contextlib.suppress(NotFoundError):
        await js.delete_key_value(subjects.digests_bucket)
    with contextlib.suppress(NotFoundError):
        await js.delete_key_value(subjects.gateway_state_bucket)
