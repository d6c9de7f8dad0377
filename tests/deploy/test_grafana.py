"""deploy/grafana: the provisioned datasources and dashboards.

Every dashboard loads, has a uid, a title and panels; every panel query is PromQL that
promtool parses (written as recording rules into a temporary file and checked with
`promtool check rules`) and that reads only metrics Tally's code or the exporters expose.
"""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.dashboards import DASHBOARDS, load_dashboard, panel_queries
from tests.deploy.layout import DEPLOY
from tests.deploy.metrics import catalogue, unknown_series

GRAFANA = DEPLOY / "grafana"


def test_the_four_dashboards_are_there() -> None:
    """Overview, questions, ingest and alerts, each with a unique uid and title."""
    dashboards = [load_dashboard(path) for path in DASHBOARDS]
    assert {d["uid"] for d in dashboards} == {
        "tally-overview",
        "tally-questions",
        "tally-ingest",
        "tally-alerts",
    }
    assert len({d["title"] for d in dashboards}) == len(dashboards)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_is_well_formed(path: Path) -> None:
    """uid, title and panels; panel ids are unique; each graph panel has a query on the
    provisioned Prometheus datasource and fits the 24-column grid."""
    dashboard = load_dashboard(path)
    assert dashboard["uid"] and dashboard["title"] and dashboard["panels"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "prometheus"}
        assert panel["targets"], panel["title"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_queries_use_no_unknown_variable(path: Path) -> None:
    """Only Grafana's built-ins (the dashboards declare no template variables)."""
    for title, expr in panel_queries(load_dashboard(path)):
        assert "$" not in expr, title


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_queries_parse_as_promql(promtool: str, path: Path, tmp_path: Path) -> None:
    """promtool parses every query (as the expression of a recording rule)."""
    queries = panel_queries(load_dashboard(path))
    rules = [{"record": f"grafana:query_{n}", "expr": e} for n, (_, e) in enumerate(queries)]
    rule_file = tmp_path / "queries.yml"
    rule_file.write_text(yaml.safe_dump({"groups": [{"name": path.stem, "rules": rules}]}))
    run = subprocess.run(
        [promtool, "check", "rules", str(rule_file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"SUCCESS: {len(rules)} rules found" in run.stdout


def test_promtool_refuses_a_broken_query(promtool: str, tmp_path: Path) -> None:
    """The parse check can fail: an unclosed parenthesis is reported."""
    rule_file = tmp_path / "broken.yml"
    rules = [{"record": "grafana:broken", "expr": "sum(rate(up[1m])"}]
    rule_file.write_text(yaml.safe_dump({"groups": [{"name": "broken", "rules": rules}]}))
    run = subprocess.run(
        [promtool, "check", "rules", str(rule_file)], capture_output=True, timeout=60, check=False
    )
    assert run.returncode != 0


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_queries_read_only_series_the_stack_exposes(path: Path) -> None:
    """Every metric a panel reads (and every label it matches on) exists in Tally's code,
    in the list of metrics parallel branches add, or in an exporter."""
    known = catalogue()
    problems = {
        title: found
        for title, expr in panel_queries(load_dashboard(path))
        if (found := unknown_series(expr, known))
    }
    assert problems == {}


def test_an_unknown_metric_or_label_is_reported() -> None:
    """The metric check can fail: a misspelt name and a label the metric lacks are caught."""
    known = catalogue()
    assert unknown_series("rate(tally_executor_querys_total[5m])", known) == [
        "no metric tally_executor_querys_total"
    ]
    assert unknown_series('tally_executor_queries_total{verdict="x"}', known) == [
        "tally_executor_queries_total has no label ['verdict']"
    ]


def test_datasources_are_prometheus_and_jaeger_with_the_uids_dashboards_use() -> None:
    """Prometheus (default, uid prometheus) and Jaeger (uid jaeger), at their compose names."""
    provisioning = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "datasources.yml").read_text()
    )
    sources = {source["uid"]: source for source in provisioning["datasources"]}
    assert sources["prometheus"]["type"] == "prometheus"
    assert sources["prometheus"]["url"] == "http://prometheus:9090"
    assert sources["prometheus"]["isDefault"] is True
    assert sources["jaeger"]["type"] == "jaeger"
    assert sources["jaeger"]["url"] == "http://jaeger:16686"


def test_dashboards_provider_points_where_compose_mounts_them() -> None:
    """The file provider reads the directory docker-compose.yml mounts the JSON into."""
    provider = yaml.safe_load(
        (GRAFANA / "provisioning" / "dashboards" / "dashboards.yml").read_text()
    )
    (entry,) = provider["providers"]
    compose = (DEPLOY.parent / "docker-compose.yml").read_text()
    mount = re.search(r"\./deploy/grafana/dashboards:([^:\s]+)", compose)
    assert mount and entry["options"]["path"] == mount.group(1)


EXEMPLAR_HISTOGRAMS = {
    "tally_answer_latency_seconds": "libs/runtime/src/tally/runtime/metrics.py",
    "tally_nl2sql_plan_seconds": "services/nl2sql/src/tally/nl2sql/handlers.py",
    "tally_nl2sql_llm_seconds": "services/nl2sql/src/tally/nl2sql/llm/client.py",
    "tally_executor_query_seconds": "services/executor/src/tally/executor/handlers.py",
    "tally_dashboard_request_seconds": "services/dashboard/src/tally/dashboard/metrics.py",
    "tally_ingest_batch_seconds": "services/ingest/src/tally/ingest/videos/handlers.py",
    "tally_ingest_chat_batch_seconds": "services/ingest/src/tally/ingest/chats/handlers.py",
}
"""The latency histograms observed with the current trace id as exemplar, and where."""


def test_exemplar_histograms_observe_with_the_trace_id() -> None:
    """Each histogram listed is observed with ``trace_exemplar()`` (or through
    ``observe_seconds``, which does) in the file named."""
    root = DEPLOY.parent
    for path in EXEMPLAR_HISTOGRAMS.values():
        source = (root / path).read_text()
        assert "trace_exemplar()" in source or "observe_seconds(" in source, path


def test_latency_panels_link_exemplars_to_jaeger() -> None:
    """Every panel query on a histogram with exemplars shows them (``exemplar: true``), and the
    Prometheus datasource turns an exemplar's ``trace_id`` into a link to the Jaeger
    datasource."""
    shown = set()
    for path in DASHBOARDS:
        for panel in load_dashboard(path)["panels"]:
            for target in panel.get("targets", []):
                read = {h for h in EXEMPLAR_HISTOGRAMS if f"{h}_bucket" in target["expr"]}
                if read:
                    assert target.get("exemplar") is True, panel["title"]
                    shown |= read
    assert shown == set(EXEMPLAR_HISTOGRAMS)
    provisioning = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "datasources.yml").read_text()
    )
    sources = {source["uid"]: source for source in provisioning["datasources"]}
    [link] = sources["prometheus"]["jsonData"]["exemplarTraceIdDestinations"]
    assert link == {"name": "trace_id", "datasourceUid": "jaeger"}
    assert "--enable-feature=exemplar-storage" in (DEPLOY.parent / "docker-compose.yml").read_text()
