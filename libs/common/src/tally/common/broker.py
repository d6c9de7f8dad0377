"""The one place where a service's broker and app are made, with observability wired in.

Every service gets: a NATS broker with OpenTelemetry context in message headers and
FastStream's Prometheus metrics, an ASGI side app serving ``/metrics`` (its own registry),
``/health`` (NATS answers a ping), ``/health/live``, ``/health/ready``, its AsyncAPI
document (``/asyncapi.json``, and a viewer page at ``/asyncapi``), and the JetStream streams
(and the answers key-value bucket) declared.
"""

import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import nats
from faststream.asgi import AsgiFastStream, AsgiResponse, AsyncAPIRoute, get, make_ping_asgi
from faststream.nats import NatsBroker
from faststream.nats.security import NatsUserPassword
from faststream.specification import AsyncAPI
from nats.js import JetStreamContext
from nats.js.api import KeyValueConfig, StreamConfig
from nats.js.errors import BucketNotFoundError, NotFoundError
from prometheus_client import CollectorRegistry, make_asgi_app

from tally.common import _compat
from tally.common.cache import DEFAULT_TTL_S, delete_bucket, ensure_bucket
from tally.common.deadletter import dead_letter_middleware, register_metrics
from tally.common.observability import prometheus_middleware, telemetry_middleware
from tally.common.settings import CommonSettings
from tally.common.subjects import Subjects

ReadyCheck = Callable[[], Awaitable[bool]]
_compat.apply()

API_VERSION = "1"
"""The version of the events on the bus (``Event.version``), shown in the AsyncAPI document."""
ACTIVITY_MAX_AGE_S = 7 * 24 * 3600
"""Answers, users seen and alerts stay in their stream for a week (replayable into the log)."""


def create_broker(
    settings: CommonSettings, *, service: str, registry: CollectorRegistry | None = None
) -> NatsBroker:
    """A NatsBroker for ``service`` with tracing, dead-lettering of invalid messages and
    (when ``registry`` is given) metrics.

    It reconnects forever: a restarted NATS costs a pause, not a dead service. It logs in as
    NATS_USER when the settings name one (see tally.common.access for what it may do).
    """
    middlewares: list[Any] = [
        dead_letter_middleware(Subjects(settings.subject_prefix), service),
        telemetry_middleware(),
    ]
    if registry is not None:
        middlewares.append(prometheus_middleware(registry, service=service))
        register_metrics(registry)
    auth = settings.nats_auth()
    return NatsBroker(
        settings.nats_url,
        security=NatsUserPassword(auth["user"], auth["password"]) if auth else None,
        name=f"tally-{service}",
        description=f"tally-{service}",  # the AsyncAPI document's title
        middlewares=middlewares,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        graceful_timeout=10.0,
        log_level=logging.DEBUG,  # one line per message is noise at INFO; errors still log
    )


async def declare_streams(settings: CommonSettings) -> None:
    """Create this deployment's JetStream streams and shared buckets when missing (existing
    ones are kept). Under authorization a service may only read that they exist: the
    operator (``tally up``, ``tally declare-streams``) creates them first."""
    connection = await nats.connect(settings.nats_url, **settings.nats_auth())
    try:
        subjects = Subjects(settings.subject_prefix)
        await ensure_streams(
            connection.jetstream(),
            subjects,
            answers_ttl_s=settings.answer_cache_ttl_s,
            replicas=settings.stream_replicas,
        )
    finally:
        await connection.close()


def create_app(
    broker: NatsBroker,
    settings: CommonSettings,
    *,
    registry: CollectorRegistry,
    ready_checks: Sequence[ReadyCheck] = (),
    on_startup: Sequence[Callable[[], Awaitable[None]]] = (),
    **kwargs: Any,
) -> AsgiFastStream:
    """An ASGI FastStream app around ``broker`` serving /metrics and /health endpoints.

    Before the broker starts, the streams are declared (so any service can dead-letter, in
    any start order). ``/health/ready`` answers 204 when NATS and every ``ready_checks``
    answer, else 503. ``/asyncapi.json`` is the broker's AsyncAPI 3.0 document (FastStream
    generates it from the subscribers and publishers); the "try it out" route that would
    publish from HTTP is off.
    """

    async def streams() -> None:
        await declare_streams(settings)

    @get
    async def live(scope: Any) -> AsgiResponse:
        return AsgiResponse(b"", 204)

    @get
    async def ready(scope: Any) -> AsgiResponse:
        checks = [broker.ping(timeout=2.0), *(check() for check in ready_checks)]
        results = [await check for check in checks]
        return AsgiResponse(b"", 204 if all(results) else 503)

    title = broker.specification.description or "tally"
    return AsgiFastStream(
        broker,
        specification=AsyncAPI(broker, title=title, version=API_VERSION),
        asyncapi_path=AsyncAPIRoute("/asyncapi", try_it_out_path=None),
        asgi_routes=[
            ("/metrics", make_asgi_app(registry)),
            ("/health", make_ping_asgi(broker, timeout=2.0)),
            ("/health/live", live),
            ("/health/ready", ready),
        ],
        on_startup=[streams, *on_startup],
        **kwargs,
    )


CHAT_EVENTS_DUPLICATE_WINDOW_S = 3600.0
"""How long JetStream remembers a chat event's ``Nats-Msg-Id``: an hour covers a gateway that
restarts and is handed the same Telegram updates again; ingest's upserts cover the rest."""


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
    the chat settings bucket that do not exist yet, on ``replicas`` servers each; leave
    existing ones (their data and replica count) alone.

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


def chat_settings_config(subjects: Subjects, *, replicas: int = 1) -> KeyValueConfig:
    """The chat settings bucket (written by ingest): one value per key, kept until replaced."""
    return KeyValueConfig(bucket=subjects.chat_settings_bucket, history=1, replicas=replicas)


async def delete_streams(js: JetStreamContext, subjects: Subjects) -> None:
    """Remove every stream and the answers and chat settings buckets of a deployment (test
    clean-up)."""
    for config in stream_configs(subjects):
        try:
            await js.delete_stream(config.name or "")
        except NotFoundError:
            continue
    await delete_bucket(js, subjects)
    with contextlib.suppress(NotFoundError):
        await js.delete_key_value(subjects.chat_settings_bucket)
