"""The dashboard traces its requests and their SQL, and its request latency keeps each
request's trace id as exemplar, served when /metrics is asked for OpenMetrics."""

import httpx
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

OPENMETRICS = "application/openmetrics-text; version=1.0.0"


async def test_request_and_sql_spans(
    client: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    """``GET /api/chats`` is a server span; the SQL it ran are client spans under it, without
    their bound values; /metrics and /health make no span, and the readiness probe's SQL
    none either."""
    spans.clear()
    assert (await client.get("/api/chats")).status_code == 200
    assert (await client.get("/health/ready")).status_code == 204
    assert (await client.get("/metrics")).status_code == 200
    finished = spans.get_finished_spans()
    [request] = [s for s in finished if s.kind == SpanKind.SERVER]
    assert request.name == "GET /api/chats"
    sql = [s for s in finished if s.kind == SpanKind.CLIENT and s.name != request.name]
    statements = [s for s in sql if (s.attributes or {}).get("db.system") == "postgresql"]
    assert statements
    by_id = {s.context.span_id: s for s in finished}
    for statement in statements:
        assert statement.context.trace_id == request.context.trace_id
        parent = statement.parent
        while parent is not None and parent.span_id != request.context.span_id:
            parent = by_id[parent.span_id].parent
        assert parent is not None, statement.name
        assert "db.statement.parameters" not in (statement.attributes or {})


async def test_latency_exemplar_links_the_trace(
    client: httpx.AsyncClient, spans: InMemorySpanExporter
) -> None:
    """With ``Accept: application/openmetrics-text`` /metrics answers OpenMetrics, where the
    request latency bucket of ``/api/chats`` carries the trace id of that request's span;
    without it, the Prometheus text format (no exemplars)."""
    spans.clear()
    assert (await client.get("/api/chats")).status_code == 200
    [request] = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    trace_id = format(request.context.trace_id, "032x")
    reply = await client.get("/metrics", headers={"Accept": OPENMETRICS})
    assert reply.headers["content-type"].startswith("application/openmetrics-text")
    lines = [line for line in reply.text.splitlines() if f'trace_id="{trace_id}"' in line]
    assert lines and lines[0].startswith("tally_dashboard_request_seconds_bucket{")
    assert 'route="/api/chats"' in lines[0]
    plain = await client.get("/metrics")
    assert plain.headers["content-type"].startswith("text/plain")
    assert "trace_id" not in plain.text
