"""Prometheus metrics of the LLM engine (per registry, bounded labels)."""

from typing import Literal, get_args

from prometheus_client import CollectorRegistry, Counter, Histogram

from tally.runtime.metrics import zero

ErrorKind = Literal["timeout", "http", "invalid", "breaker_open", "other"]
"""``timeout``: no answer in time; ``http``: an HTTP error status or no connection;
``invalid``: an answer that is not a valid reply; ``breaker_open``: not called at all;
``other``: anything else that went wrong while asking (a bug, an SDK surprise)."""


class LlmMetrics:
    """Time waited on the model (s), tokens used, and errors by kind."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.seconds = Histogram(
            "tally_nl2sql_llm_seconds",
            "Time one chat completion took, retries included (s)",
            buckets=(0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30),
            registry=registry,
        )
        self.tokens = Counter(
            "tally_nl2sql_llm_tokens_total",
            "Tokens the model reported, by kind",
            ["kind"],
            registry=registry,
        )
        self.errors = Counter(
            "tally_nl2sql_llm_errors_total",
            "LLM calls that gave no usable reply, by kind",
            ["kind"],
            registry=registry,
        )
        zero(self.tokens, kind=("prompt", "completion"))
        zero(self.errors, kind=get_args(ErrorKind))

    def error(self, kind: ErrorKind) -> None:
        """Count one error of ``kind``."""
        self.errors.labels(kind).inc()

    def used(self, *, prompt_tokens: int, completion_tokens: int) -> None:
        """Count the tokens of one completion."""
        self.tokens.labels("prompt").inc(prompt_tokens)
        self.tokens.labels("completion").inc(completion_tokens)
