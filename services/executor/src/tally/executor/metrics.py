"""The executor's Prometheus metrics."""

from typing import get_args

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from tally.contracts.events import Outcome
from tally.runtime.metrics import AnswerMetrics, zero

ACTIVE_WINDOWS = ("1d", "7d", "30d")
"""The windows of ``tally_active_users``: distinct askers over the last 1, 7 and 30 days."""


class ExecutorMetrics:
    """Plans run on the database by outcome and their database time (seconds, Prometheus
    convention), answer cache lookups (``hit``, ``miss``, or ``error`` when the bucket failed or is
    being left alone after a failure),
    and the SQL firewall's verdicts on LLM-written SQL (``accepted`` or ``refused``).

    ``repeated`` counts plans and LLM-written SQL whose question id was met here already (a
    question asked again, see tally.infra.idempotency), by ``action``: ``dropped`` while the
    first is in flight, ``replayed`` once answered (the answer published again, nothing run).

    A cache hit is counted in ``tally_executor_cache_total`` only: no query ran.

    ``answers`` counts every answer the executor publishes (:class:`AnswerMetrics`);
    ``active_users{window}`` is the number of distinct users who asked within the last
    ``window`` (DAU ``1d``, WAU ``7d``, MAU ``30d``), refreshed by
    :mod:`tally.executor.active_users`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.queries = Counter(
            "tally_executor_queries_total",
            "Query plans executed on the database, by outcome",
            ["outcome"],
            registry=registry,
        )
        self.query_seconds = Histogram(
            "tally_executor_query_seconds",
            "Database time per query plan",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=registry,
        )
        self.cache = Counter(
            "tally_executor_cache_total",
            "Answer cache lookups of query plans, by result",
            ["result"],
            registry=registry,
        )
        self.firewall = Counter(
            "tally_executor_firewall_total",
            "LLM-written SQL checked by the firewall, by verdict",
            ["verdict"],
            registry=registry,
        )
        self.repeated = Counter(
            "tally_executor_repeated_questions_total",
            "Plans and LLM-written SQL whose question id was met already, by what was done",
            ["action"],
            registry=registry,
        )
        zero(self.queries, outcome=get_args(Outcome))
        zero(self.cache, result=("hit", "miss", "error"))
        zero(self.firewall, verdict=("accepted", "refused"))
        zero(self.repeated, action=("dropped", "replayed"))
        self.answers = AnswerMetrics(registry)
        self.active_users = Gauge(
            "tally_active_users",
            "Distinct users who asked a question within the window (from the questions log)",
            ["window"],
            registry=registry,
        )
