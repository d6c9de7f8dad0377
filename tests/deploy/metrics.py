"""The metric names Tally exposes, read from its source, and the PromQL that uses them.

``tally_metrics`` finds every ``Counter``/``Gauge``/``Histogram``/``Summary`` constructed in
``libs/*/src`` and ``services/*/src`` (by parsing the code, so a new metric needs no list
here) and FastStream's ``faststream_*`` metrics (from the middleware Tally installs), and
expands each family into the sample names Prometheus stores (a counter ``x`` is scraped as
``x_total``; a histogram as ``x_bucket``, ``x_sum``, ``x_count``), and the process, platform
and GC collectors every service registers (``process_*``, ``python_*``). ``used_selectors`` parses
PromQL with promql-parser (the Rust parser Prometheus-compatible databases use) and returns
every series selector in it.

A metric whose name is not a string literal where it is constructed is not found by the scan:
a dashboard using it fails with "no metric", which says where to look.
"""

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import promql_parser
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary
from prometheus_client.metrics import MetricWrapperBase

from tally.runtime.metrics import register_process_metrics
from tally.runtime.observability import prometheus_middleware

ROOT = Path(__file__).resolve().parents[2]
METRIC_TYPES: dict[str, type[MetricWrapperBase]] = {
    "Counter": Counter,
    "Gauge": Gauge,
    "Histogram": Histogram,
    "Summary": Summary,
}
SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count", "_created"),
    "summary": ("", "_sum", "_count", "_created"),
}
"""prometheus_client's exposition: the sample names of one family, by its type."""

# Labels every scraped series carries (Prometheus adds job and instance) or a histogram has.
SCRAPE_LABELS = frozenset({"job", "instance"})

EXPORTER_METRICS: dict[str, str] = {
    # Series the stack's other parts expose (labels not checked here).
    "up": "Prometheus, one per scrape target",
    "ALERTS": "Prometheus, one per pending or firing alert",
    "gnatsd_varz_connections": "prometheus-nats-exporter -varz",
    "gnatsd_varz_in_msgs": "prometheus-nats-exporter -varz",
    "gnatsd_varz_out_msgs": "prometheus-nats-exporter -varz",
    "gnatsd_healthz_status": "prometheus-nats-exporter -healthz",
    "jetstream_consumer_num_pending": "prometheus-nats-exporter -jsz=all",
    "jetstream_consumer_num_ack_pending": "prometheus-nats-exporter -jsz=all",
    "jetstream_stream_total_messages": "prometheus-nats-exporter -jsz=all",
    "pg_up": "postgres_exporter",
}


@dataclass(frozen=True)
class Selector:
    """One series selector of a PromQL expression: its metric name and matched labels."""

    name: str
    labels: frozenset[str]


def _declared(path: Path) -> Iterator[tuple[str, str, tuple[str, ...]]]:
    """(constructor, name, label names) of each metric constructed in ``path``."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        kind = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if kind not in METRIC_TYPES:
            continue
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        name = node.args[0] if node.args else keywords.get("name")
        labels = node.args[2] if len(node.args) > 2 else keywords.get("labelnames")
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            yield kind, name.value, _literal_strings(labels)


def _literal_strings(node: ast.expr | None) -> tuple[str, ...]:
    if isinstance(node, ast.List | ast.Tuple):
        return tuple(
            e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
        )
    return ()


def _families(registry: CollectorRegistry) -> Iterator[tuple[str, str]]:
    for family in registry.collect():
        yield family.name, family.type


def tally_metrics() -> dict[str, frozenset[str] | None]:
    """Sample name -> label names (None: not known) of every metric Tally's code exposes."""
    registry = CollectorRegistry()
    labels: dict[str, frozenset[str] | None] = {}
    sources = [*ROOT.glob("libs/*/src/**/*.py"), *ROOT.glob("services/*/src/**/*.py")]
    for path in sources:
        for kind, name, names in _declared(path):
            family = name.removesuffix("_total") if kind == "Counter" else name
            if family not in labels:  # the same metric made in two places is one family
                METRIC_TYPES[kind](name, "scanned", names, registry=registry)
                labels[family] = frozenset(names)
    prometheus_middleware(registry, service="scan")
    register_process_metrics(registry)
    samples: dict[str, frozenset[str] | None] = {}
    for family, kind in _families(registry):
        for suffix in SUFFIXES[kind]:
            samples[family + suffix] = labels.get(family)
    return samples


def catalogue() -> dict[str, frozenset[str] | None]:
    """Every series name the stack has: Tally's, the parallel branches', the exporters'."""
    known = tally_metrics()
    known.update(dict.fromkeys(EXPORTER_METRICS))
    return known


def used_selectors(expr: str) -> list[Selector]:
    """Every series selector in the PromQL ``expr``; raises ValueError when it does not parse."""
    found: list[Selector] = []

    def visit(node: promql_parser.Expr) -> None:
        if isinstance(node, promql_parser.VectorSelector):
            matchers = node.matchers.matchers
            name = node.name or next(m.value for m in matchers if m.name == "__name__")
            found.append(Selector(name, frozenset(m.name for m in matchers) - {"__name__"}))

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found


def unknown_series(expr: str, known: dict[str, frozenset[str] | None]) -> list[str]:
    """What ``expr`` selects that the stack does not expose: names, or labels of a name."""
    problems = []
    for selector in used_selectors(expr):
        if selector.name not in known:
            problems.append(f"no metric {selector.name}")
            continue
        labels = known[selector.name]
        if labels is None:
            continue
        allowed = labels | SCRAPE_LABELS | ({"le"} if selector.name.endswith("_bucket") else set())
        if extra := selector.labels - allowed:
            problems.append(f"{selector.name} has no label {sorted(extra)}")
    return problems
