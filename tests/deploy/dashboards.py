"""deploy/grafana's dashboards and the PromQL of their panels."""

import json
from pathlib import Path
from typing import Any

from tests.deploy.layout import DEPLOY

DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "6h"}
"""Grafana's built-in variables, replaced by a sample value before PromQL is parsed."""


def load_dashboard(path: Path) -> dict[str, Any]:
    """The dashboard JSON at ``path``."""
    dashboard: dict[str, Any] = json.loads(path.read_text())
    return dashboard


def panel_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, PromQL with Grafana's variables replaced) of every Prometheus target
    (a PostgreSQL panel's target has ``rawSql`` instead)."""
    found = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            if "expr" not in target:
                continue
            expr = target["expr"]
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            found.append((panel["title"], expr))
    return found
