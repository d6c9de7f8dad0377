"""Prometheus metrics of ingest, defined per registry (bounded labels only)."""

from typing import Literal, get_args

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from tally.runtime.metrics import zero

Kind = Literal["video_batch", "answer", "user_seen", "feedback", "admin_audit", "chat_event"]
EventOutcome = Literal["stored", "duplicate", "retried", "reordered", "dead_letter"]


class IngestMetrics:
    """``tally_ingest_events_total{kind, outcome}``, ``tally_ingest_batch_seconds`` (time to
    store one VideoBatch, seconds), ``tally_ingest_chat_batch_seconds`` (time to store one
    fetch of chat events, seconds), ``tally_ingest_dead_letters_total{kind}``, and each
    durable consumer's backlog: ``tally_ingest_consumer_pending{stream, consumer}`` (stored,
    not yet delivered) and ``tally_ingest_consumer_ack_pending{stream, consumer}`` (delivered,
    not yet acknowledged), set by :mod:`tally.ingest.backlog`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter(
            "tally_ingest_events",
            "Messages ingest handled, by kind and outcome.",
            ["kind", "outcome"],
            registry=registry,
        )
        self.batch_seconds = Histogram(
            "tally_ingest_batch_seconds",
            "Time to upsert one VideoBatch, seconds.",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.chat_batch_seconds = Histogram(
            "tally_ingest_chat_batch_seconds",
            "Time to store one fetch of chat events (one transaction), seconds.",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=registry,
        )
        self.dead_letters = Counter(
            "tally_ingest_dead_letters",
            "Messages ingest sent to its dead-letter subject, by kind.",
            ["kind"],
            registry=registry,
        )
        zero(self.events, kind=get_args(Kind), outcome=("dead_letter",))
        zero(self.dead_letters, kind=get_args(Kind))

        self.consumer_pending = Gauge(
            "tally_ingest_consumer_pending",
            "Messages in the stream not yet delivered to the durable consumer (its lag).",
            ["stream", "consumer"],
            registry=registry,
        )
        self.consumer_ack_pending = Gauge(
            "tally_ingest_consumer_ack_pending",
            "Messages delivered to the durable consumer and not yet acknowledged.",
            ["stream", "consumer"],
            registry=registry,
        )

    def handled(self, kind: Kind, outcome: EventOutcome, count: int = 1) -> None:
        """Count ``count`` messages of ``kind`` ending with ``outcome``."""
        self.events.labels(kind=kind, outcome=outcome).inc(count)
        if outcome == "dead_letter":
            self.dead_letters.labels(kind=kind).inc(count)
