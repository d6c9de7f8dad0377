"""deploy/prometheus: the config and rules pass promtool, the alert rules pass their unit
tests, every Tally service is scraped on its health port, and every series a rule reads
exists."""

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.layout import DEPLOY, TALLY_SERVICES, health_port
from tests.deploy.metrics import catalogue, unknown_series

PROMETHEUS = DEPLOY / "prometheus"
RULE_FILES = sorted((PROMETHEUS / "rules").glob("*.yml"))


def promtool_run(promtool: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run promtool; the output is in the assertion message when it fails."""
    return subprocess.run(
        [promtool, *map(str, args)], capture_output=True, text=True, timeout=120, check=False
    )


def test_config_passes_promtool(promtool: str) -> None:
    """`promtool check config` accepts prometheus.yml and the rule files it loads."""
    run = promtool_run(promtool, "check", "config", PROMETHEUS / "prometheus.yml")
    assert run.returncode == 0, run.stdout + run.stderr
    assert len(RULE_FILES) >= 2 and all(f.name in run.stdout for f in RULE_FILES), run.stdout


def test_rules_pass_promtool(promtool: str) -> None:
    """`promtool check rules` parses every rule file (PromQL included)."""
    run = promtool_run(promtool, "check", "rules", *RULE_FILES)
    assert run.returncode == 0, run.stdout + run.stderr


def test_alert_rules_pass_their_unit_tests(promtool: str) -> None:
    """`promtool test rules`: each alert fires on the series that should fire it, and only then."""
    run = promtool_run(promtool, "test", "rules", *sorted((PROMETHEUS / "tests").glob("*.yml")))
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_wrong_expectation_fails_the_unit_tests(promtool: str, tmp_path: Path) -> None:
    """The unit tests can fail: expecting TargetDown from a healthy target is reported."""
    test = {
        "rule_files": [str(PROMETHEUS / "rules" / "infrastructure.yml")],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": 'up{job="ingest", instance="a"}', "values": "1x10"}],
                "alert_rule_test": [
                    {
                        "eval_time": "5m",
                        "alertname": "TargetDown",
                        "exp_alerts": [{"exp_labels": {"job": "ingest", "instance": "a"}}],
                    }
                ],
            }
        ],
    }
    path = tmp_path / "wrong_test.yml"
    path.write_text(yaml.safe_dump(test))
    assert promtool_run(promtool, "test", "rules", path).returncode != 0


def _rules() -> list[dict[str, Any]]:
    return [
        rule
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    ]


def test_required_alerts_exist() -> None:
    """Target down, NATS down, JetStream consumer backlog, PostgreSQL down, error rates."""
    names = {rule["alert"] for rule in _rules()}
    assert {
        "TargetDown",
        "NatsDown",
        "JetStreamConsumerPendingHigh",
        "PostgresDown",
        "TallyHighQueryErrorRate",
        "TallyHandlerErrorRate",
    } <= names


def test_every_alert_has_a_severity_and_a_summary() -> None:
    """Alertmanager routes on severity; people read the summary."""
    for rule in _rules():
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]


def test_rules_read_only_series_the_stack_exposes() -> None:
    """Every metric (and label matched) in a rule exists in Tally's code or an exporter."""
    known = catalogue()
    problems = {rule["alert"]: unknown_series(rule["expr"], known) for rule in _rules()}
    assert {alert: found for alert, found in problems.items() if found} == {}


@pytest.mark.parametrize("name", TALLY_SERVICES)
def test_every_service_is_scraped_on_its_health_port(name: str) -> None:
    """A job named after the service finds its replicas through DNS on its metrics port."""
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == name]
    (discovery,) = job["dns_sd_configs"]
    assert discovery["names"] == [name] and discovery["port"] == health_port(name)
