"""deploy/grafana: the provisioned datasources and dashboards.

Every dashboard loads, has a uid, a title and panels; every Prometheus panel query is PromQL
that promtool parses (written as recording rules into a temporary file and checked with
`promtool check rules`) and that reads only metrics Tally's code or the exporters expose;
every PostgreSQL panel query runs on a migrated database as the datasource's login.
"""

import re
import subprocess
from pathlib import Path

import asyncpg
import pytest
import yaml
from sqlalchemy.engine import make_url

from tests.deploy.dashboards import DASHBOARDS, load_dashboard, panel_queries
from tests.deploy.layout import DEPLOY
from tests.deploy.metrics import catalogue, unknown_series

GRAFANA = DEPLOY / "grafana"
PROMETHEUS = {"type": "prometheus", "uid": "prometheus"}
POSTGRES = {"type": "grafana-postgresql-datasource", "uid": "postgres"}


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
    """uid, title and panels; panel ids are unique; each graph panel has a query on a
    provisioned datasource (Prometheus, or PostgreSQL with SQL) and fits the 24-column grid."""
    dashboard = load_dashboard(path)
    assert dashboard["uid"] and dashboard["title"] and dashboard["panels"]
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"] in (PROMETHEUS, POSTGRES), panel["title"]
        assert panel["targets"], panel["title"]
        query = "rawSql" if panel["datasource"] == POSTGRES else "expr"
        assert all(target[query] for target in panel["targets"]), panel["title"]


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


def _sql_queries() -> list[tuple[str, str]]:
    """(panel title, SQL with Grafana's time filter macro replaced) of every PostgreSQL
    target of every dashboard."""
    time_filter = re.compile(r"\$__timeFilter\((\w+)\)")
    return [
        (panel["title"], time_filter.sub(r"\1 > now() - interval '6 hours'", target["rawSql"]))
        for path in DASHBOARDS
        for panel in load_dashboard(path)["panels"]
        for target in panel.get("targets", [])
        if "rawSql" in target
    ]


def test_the_postgres_datasource_logs_in_as_the_ops_role() -> None:
    """PostgreSQL (uid postgres) at the compose name, database tally, as tally_ops (read-only,
    migration 0011 lets it read alert_history), its password from the environment."""
    provisioning = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "datasources.yml").read_text()
    )
    source = {source["uid"]: source for source in provisioning["datasources"]}["postgres"]
    assert source["type"] == POSTGRES["type"] and source["url"] == "postgres:5432"
    assert (source["user"], source["jsonData"]["database"]) == ("tally_ops", "tally")
    assert source["secureJsonData"]["password"] == "$TALLY_OPS_PASSWORD"
    compose = yaml.safe_load((DEPLOY.parent / "docker-compose.yml").read_text())
    assert "TALLY_OPS_PASSWORD" in compose["services"]["grafana"]["environment"]


async def test_sql_panels_run_as_the_ops_role(database_url: str) -> None:
    """Each PostgreSQL panel's query runs on a migrated database as tally_ops (the alert
    history panel among them), and tally_ops still cannot read the silences."""
    queries = _sql_queries()
    assert "Alert history" in {title for title, _ in queries}
    url = make_url(database_url).set(username="tally_ops", password=None, drivername="postgresql")
    connection = await asyncpg.connect(url.render_as_string(hide_password=False))
    try:
        assert await connection.fetchval("SELECT current_user") == "tally_ops"
        for title, sql in queries:
            assert isinstance(await connection.fetch(sql), list), title
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await connection.fetch("SELECT * FROM alert_silences")
    finally:
        await connection.close()


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
                read = {h for h in EXEMPLAR_HISTOGRAMS if f"{h}_bucket" in target.get("expr", "")}
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
