"""The one place where a service's broker and app are made, with observability wired in.

Every service gets: a NATS broker with OpenTelemetry context in message headers and
FastStream's Prometheus metrics, an ASGI side app serving ``/metrics`` (its own registry),
``/health`` (NATS answers a ping), ``/health/live``, ``/health/ready``, its AsyncAPI
document (``/asyncapi.json``, and a viewer page at ``/asyncapi``), and the JetStream streams
(and the answers key-value bucket) declared.
"""

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, Final

import nats
from faststream import Context
from faststream.asgi import AsgiFastStream, AsgiResponse, get, make_ping_asgi
from faststream.asgi.response import JSONResponse
from faststream.nats import NatsBroker
from faststream.nats.security import NatsUserPassword
from faststream.specification import AsyncAPI
from prometheus_client import CollectorRegistry, make_asgi_app

from tally.contracts.publications import publications
from tally.contracts.streams import ensure_streams
from tally.contracts.subjects import Subjects
from tally.infra.settings import CommonSettings
from tally.runtime import _compat, asyncapi_page
from tally.runtime.deadletter import dead_letter_middleware, register_metrics
from tally.runtime.metrics import register_process_metrics
from tally.runtime.observability import MessageLog, prometheus_middleware, telemetry_middleware

ReadyCheck = Callable[[], Awaitable[bool]]
unprefixed_subjects: Final = Subjects(prefix="")
"""The subjects below a deployment's prefix (``.plans.ready``): what a router made with
``NatsRouter(prefix=settings.subject_prefix)`` subscribes to, the router adding the prefix."""
SubjectsDep = Annotated[Subjects, Context("subjects")]
"""A handler's parameter: the deployment's subjects, which :func:`create_broker` put in the
broker's context."""
_compat.apply()

API_VERSION = "1"
"""The version of the events on the bus (``Event.version``), shown in the AsyncAPI document."""


def create_broker(
    settings: CommonSettings, *, service: str, registry: CollectorRegistry | None = None
) -> NatsBroker:
    """A NatsBroker for ``service`` with tracing, dead-lettering of invalid messages and
    (when ``registry`` is given) metrics, the process's CPU, memory and open files among
    them. The deployment's :class:`Subjects` are made here, once, and put in the broker's
    context under ``subjects`` (see :func:`subjects_of`).

    It reconnects forever: a restarted NATS costs a pause, not a dead service. It logs in as
    NATS_USER when the settings name one (see tally.contracts.access for what it may do).
    """
    subjects = Subjects(settings.subject_prefix)
    middlewares: list[Any] = [
        dead_letter_middleware(subjects, service),
        telemetry_middleware(),
        MessageLog,
    ]
    if registry is not None:
        middlewares.append(prometheus_middleware(registry, service=service))
        register_metrics(registry, service)
        register_process_metrics(registry)
    auth = settings.nats_auth()
    broker = NatsBroker(
        settings.nats_servers(),
        security=NatsUserPassword(auth["user"], auth["password"]) if auth else None,
        name=f"tally-{service}",
        description=f"tally-{service}",  # the AsyncAPI document's title
        middlewares=middlewares,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        graceful_timeout=10.0,
        log_level=logging.DEBUG,  # one line per message is noise at INFO; errors still log
        logger=logging.getLogger("faststream.access.nats"),  # no handler: the root's format
    )
    broker.context.set_global("subjects", subjects)
    declare_publications(broker, subjects, service)
    return broker


def declare_publications(broker: NatsBroker, subjects: Subjects, identity: str) -> None:
    """Declare on ``broker`` a publisher for each of ``identity``'s publications
    (:mod:`tally.contracts.publications`; none for an identity not there), so its AsyncAPI
    document lists what it sends (the message model as the payload; a request names its
    reply in the description). The code publishes through the broker on the subjects these
    cover (tests/test_asyncapi.py)."""
    for publication in publications(subjects).get(identity, ()):
        reply = f" Reply: {publication.reply.__name__}." if publication.reply else ""
        broker.publisher(
            publication.subject,
            title=f"{identity}:{publication.name}",
            description=publication.description + reply,
            schema=publication.message,
        )


def subjects_of(broker: NatsBroker) -> Subjects:
    """The subjects :func:`create_broker` put in ``broker``'s context (KeyError for a broker
    it did not make)."""
    subjects = broker.context.get("subjects")
    if not isinstance(subjects, Subjects):
        raise KeyError("subjects")
    return subjects


async def declare_streams(settings: CommonSettings) -> None:
    """Create this deployment's JetStream streams and shared buckets when missing (existing
    ones are kept). Under authorization a service may only read that they exist: the
    operator (``tally up``, ``tally declare-streams``) creates them first."""
    connection = await nats.connect(settings.nats_servers(), **settings.nats_auth())
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
    generates it from the subscribers and publishers), ``/asyncapi`` the same as an HTML page
    that loads nothing from elsewhere (:mod:`tally.runtime.asyncapi_page`; FastStream's own
    page needs unpkg.com). No route publishes from HTTP.
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
    specification = AsyncAPI(broker, title=title, version=API_VERSION)

    @get
    async def document(scope: Any) -> AsgiResponse:
        return JSONResponse(specification.to_specification().to_jsonable())

    @get
    async def page(scope: Any) -> AsgiResponse:
        html = asyncapi_page.render(specification.to_specification().to_jsonable())
        return AsgiResponse(html.encode(), 200, {"content-type": "text/html; charset=utf-8"})

    return AsgiFastStream(
        broker,
        specification=specification,
        asgi_routes=[
            ("/asyncapi.json", document),
            ("/asyncapi", page),
            ("/metrics", make_asgi_app(registry)),
            ("/health", make_ping_asgi(broker, timeout=2.0)),
            ("/health/live", live),
            ("/health/ready", ready),
        ],
        on_startup=[streams, *on_startup],
        **kwargs,
    )
