"""The executor's broker and app, built from settings."""

from faststream.asgi import AsgiFastStream
from faststream.nats import NatsBroker
from prometheus_client import CollectorRegistry

from tally.executor.active_users import refresher
from tally.executor.cache import AnswerCache
from tally.executor.config import ExecutorSettings
from tally.executor.deps import Dependencies, provide
from tally.executor.handlers import SERVICE, create_router
from tally.executor.metrics import ExecutorMetrics
from tally.executor.ops import OpsReporter
from tally.executor.runner import Reader
from tally.infra.db.tracing import instrument_asyncpg
from tally.runtime.broker import create_app as create_service_app
from tally.runtime.broker import create_broker, subjects_of

OPS_POOL_SIZE = 2
"""Connections of the ``tally_ops`` pool: reports are rare and each runs its queries in turn."""
LLM_POOL_SIZE = 2
"""Connections of the ``tally_llm`` pool: the executor runs LLM-written SQL one at a time."""


def ops_reader(settings: ExecutorSettings) -> Reader:
    """The pool the admins' reports read from, as ``tally_ops`` (connected on first use)."""
    return Reader(
        settings,
        url=settings.ops_url,
        pool_size=OPS_POOL_SIZE,
        application_name="tally-executor-ops",
    )


def llm_reader(reader: Reader) -> Reader:
    """The pool LLM-written SQL runs on, as ``tally_llm`` (``settings.llm_url``: the video
    tables only), beside ``reader`` and closed with it."""
    return reader.sibling(
        reader.settings.llm_url, pool_size=LLM_POOL_SIZE, application_name="tally-executor-llm"
    )


def create_broker_for(
    settings: ExecutorSettings,
    reader: Reader,
    *,
    registry: CollectorRegistry | None = None,
    ops: Reader | None = None,
    llm: Reader | None = None,
    metrics: ExecutorMetrics | None = None,
) -> NatsBroker:
    """A broker with the executor's router, running plans through ``reader`` and, when
    ``settings.answer_cache`` is on, through the answer cache in the answers bucket; and
    LLM-written SQL through ``llm`` (default: :func:`llm_reader`, closed with ``reader``).

    The admins' reports are answered when ``ops`` (see :func:`ops_reader`; the caller closes
    it) is given.
    Metrics go to ``metrics`` (new ones in ``registry``, or a fresh registry, when None);
    every SQL statement of the process is traced from here on
    (:func:`tally.infra.db.tracing.instrument_asyncpg`)."""
    registry = registry or CollectorRegistry()
    metrics = metrics or ExecutorMetrics(registry)
    instrument_asyncpg()
    broker = create_broker(settings, service=SERVICE, registry=registry)
    subjects = subjects_of(broker)
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
    llm = llm or llm_reader(reader)
    provide(broker, Dependencies(reader, llm, metrics, cache, reporter))
    broker.include_router(create_router(settings.subject_prefix, ops=reporter is not None))
    return broker


def create_app(settings: ExecutorSettings) -> AsgiFastStream:
    """The executor process: broker, /metrics (with DAU/WAU/MAU refreshed in the
    background), /health (ready = NATS answers, and PostgreSQL as ``tally_reader`` and as
    ``tally_llm``)."""
    registry = CollectorRegistry()
    metrics = ExecutorMetrics(registry)
    reader = Reader(settings)
    ops, llm = ops_reader(settings), llm_reader(reader)
    broker = create_broker_for(
        settings, reader, registry=registry, ops=ops, llm=llm, metrics=metrics
    )
    start_counting, stop_counting = refresher(settings, metrics)
    return create_service_app(
        broker,
        settings,
        registry=registry,
        ready_checks=[reader.answers, llm.answers],
        after_startup=[start_counting],
        on_shutdown=[stop_counting, reader.close, ops.close],
    )
