"""The executor's broker and app, built from settings."""

from faststream.asgi import AsgiFastStream
from faststream.nats import NatsBroker
from prometheus_client import CollectorRegistry

from tally.common.broker import create_app as create_service_app
from tally.common.broker import create_broker
from tally.common.subjects import Subjects
from tally.executor.cache import AnswerCache
from tally.executor.config import ExecutorSettings
from tally.executor.handlers import SERVICE, create_router
from tally.executor.metrics import ExecutorMetrics
from tally.executor.ops import OpsReporter
from tally.executor.runner import Reader

OPS_POOL_SIZE = 2
"""Connections of the ``tally_ops`` pool: reports are rare and each runs its queries in turn."""


def ops_reader(settings: ExecutorSettings) -> Reader:
    """The pool the admins' reports read from, as ``tally_ops`` (connected on first use)."""
    return Reader(
        settings,
        url=settings.ops_url,
        pool_size=OPS_POOL_SIZE,
        application_name="tally-executor-ops",
    )


def create_broker_for(
    settings: ExecutorSettings,
    reader: Reader,
    *,
    registry: CollectorRegistry | None = None,
    ops: Reader | None = None,
) -> NatsBroker:
    """A broker with the executor's router, running plans through ``reader`` and, when
    ``settings.answer_cache`` is on, through the answer cache in the answers bucket.

    The admins' reports are answered when ``ops`` (see :func:`ops_reader`; the caller closes
    it) is given."""
    registry = registry or CollectorRegistry()
    broker = create_broker(settings, service=SERVICE, registry=registry)
    subjects = Subjects(settings.subject_prefix)
    metrics = ExecutorMetrics(registry)
    cache = None
    if settings.answer_cache:
        cache = AnswerCache(
            broker,
            bucket=subjects.answers_bucket,
            metrics=metrics,
            timeout_s=settings.answer_cache_timeout_s,
        )
    reporter = None
    if ops is not None:
        reporter = OpsReporter(
            reader=reader, ops=ops, broker=broker, subjects=subjects, registry=registry
        )
    broker.include_router(create_router(subjects, reader, metrics, cache, reporter))
    return broker


def create_app(settings: ExecutorSettings) -> AsgiFastStream:
    """The executor process: broker, /metrics, /health (ready = NATS and PostgreSQL answer)."""
    registry = CollectorRegistry()
    reader = Reader(settings)
    ops = ops_reader(settings)
    broker = create_broker_for(settings, reader, registry=registry, ops=ops)
    return create_service_app(
        broker,
        settings,
        registry=registry,
        ready_checks=[reader.answers],
        on_shutdown=[reader.close, ops.close],
    )
