"""A fetched batch is one span linked to the trace of each message in it (in-process, real
NATS and PostgreSQL, spans in memory)."""

import asyncio
from datetime import UTC, datetime
from uuid import uuid4

from nats.aio.client import Client
from opentelemetry import trace
from opentelemetry.propagate import inject
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tally.contracts.chat_events import ChatEvent, ChatUser, MessagePosted
from tally.contracts.events import QuestionAnswered, QuestionAsked
from tally.contracts.subjects import Subjects

tracer = trace.get_tracer("tests.ingest")


SpanKey = tuple[int, int]
"""(trace id, span id) of a span."""


async def _publish_traced(nc: Client, subject: str, body: bytes) -> SpanKey:
    """Publish ``body`` to JetStream inside a span of a trace of its own; that span's key."""
    with tracer.start_as_current_span(
        "test publish", context=trace.set_span_in_context(trace.INVALID_SPAN)
    ) as span:
        headers: dict[str, str] = {}
        inject(headers)
        await nc.jetstream().publish(subject, body, headers=headers)
        context = span.get_span_context()
        return context.trace_id, context.span_id


async def _batch_links(
    spans: InMemorySpanExporter, name: str, wanted: set[SpanKey]
) -> list[ReadableSpan]:
    """The finished spans called ``name`` whose links cover ``wanted`` together (waits 60 s:
    ingest applies chat events in stream order, after any backlog an earlier test left)."""
    for _ in range(600):
        batches = [s for s in spans.get_finished_spans() if s.name == name]
        linked = {(ln.context.trace_id, ln.context.span_id) for b in batches for ln in b.links}
        if wanted <= linked:
            return batches
        await asyncio.sleep(0.1)
    raise AssertionError(f"no {name!r} span linked to every message")


async def test_a_batch_of_chat_events_links_each_event_trace(
    spans: InMemorySpanExporter, ingest: None, nc: Client, subjects: Subjects
) -> None:
    """Three chat events published in three traces: the ingest batch span(s) link all three
    publish spans, each batch span is a child of the fetch's consume span, and no link is
    to the batch's own trace."""
    chat_id = -100_000_000_000 - int(uuid4().int % 1_000_000)
    events: list[ChatEvent] = [
        MessagePosted(
            event_id=f"links:{chat_id}:{n}",
            chat_id=chat_id,
            chat_title="Links",
            occurred_at=datetime.now(UTC),
            message_id=n,
            sender=ChatUser(user_id=700 + n, first_name="L"),
        )
        for n in range(3)
    ]
    published = {
        await _publish_traced(
            nc, subjects.chat_event(chat_id, event.kind), event.model_dump_json().encode()
        )
        for event in events
    }
    batches = await _batch_links(spans, "ingest chat_events batch", published)
    finished = {s.context.span_id: s for s in spans.get_finished_spans()}
    for batch in batches:
        assert batch.parent is not None and batch.parent.span_id in finished
        assert "process" in finished[batch.parent.span_id].name
        assert all(link.context.trace_id != batch.context.trace_id for link in batch.links)
    assert {key[0] for key in published}.isdisjoint({b.context.trace_id for b in batches})


async def test_a_batch_of_answers_links_each_answer_trace(
    spans: InMemorySpanExporter, ingest: None, nc: Client, subjects: Subjects
) -> None:
    """Answers logged in batches: every answer's publish span is linked from a batch span
    that carries the number of messages fetched."""
    published = set()
    for n in range(3):
        question = QuestionAsked(channel="cli", chat_id=n, user_id=n, language="en", text="q")
        answer = QuestionAnswered(question=question, outcome="refused", reason="links test")
        subject = subjects.answer("cli", str(question.question_id))
        published.add(await _publish_traced(nc, subject, answer.model_dump_json().encode()))
    batches = await _batch_links(spans, "ingest answers batch", published)
    assert all(
        (batch.attributes or {}).get("messaging.batch.message_count", 0) >= len(batch.links)
        for batch in batches
    )
