"""Which alert comes from where: Prometheus's rules (sent by Alertmanager) and the alerts
service's shipped rules never watch the same thing, and docs/operations.md lists each once.

The alerts service measures its own series (see the header of its default_rules.yaml);
``PROMETHEUS_EQUIVALENTS`` says which Prometheus series measure the same thing. A shipped
rule of the alerts service whose equivalent a Prometheus rule reads is the same alert twice.
"""

import re
from typing import Any

import yaml

from tally.alerts.config import DEFAULT_RULES_FILE
from tally.alerts.domain.rules import MetricSource
from tally.alerts.domain.rules_file import RulesFile
from tally.alerts.reloading import read_rules
from tests.deploy.layout import DEPLOY, ROOT
from tests.deploy.metrics import used_selectors

PROMETHEUS_RULES = sorted((DEPLOY / "prometheus" / "rules").glob("*.yml"))
OPERATIONS = ROOT / "docs" / "operations.md"
PROMETHEUS_EQUIVALENTS: dict[str, frozenset[str]] = {
    "question_failure_ratio": frozenset({"tally_questions_total", "tally_executor_queries_total"}),
    "questions": frozenset({"tally_questions_total"}),
    "llm_failure_ratio": frozenset(
        {"tally_nl2sql_llm_errors_total", "tally_nl2sql_llm_seconds_count"}
    ),
    "consumer_pending": frozenset(
        {"jetstream_consumer_num_pending", "tally_ingest_consumer_pending"}
    ),
    "consumer_ack_pending": frozenset(
        {"jetstream_consumer_num_ack_pending", "tally_ingest_consumer_ack_pending"}
    ),
    "dead_letters": frozenset(
        {
            "tally_dead_letters_total",
            "tally_ingest_dead_letters_total",
            "jetstream_stream_total_messages",
        }
    ),
    "database_up": frozenset({"pg_up"}),
    "database_latency_ms": frozenset(),  # no exporter times `select 1`
}
"""Each series the alerts service observes -> the Prometheus series that measure the same."""


def _prometheus_alerts() -> dict[str, str]:
    """Alert name -> PromQL of every Prometheus rule."""
    return {
        rule["alert"]: rule["expr"]
        for path in PROMETHEUS_RULES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    }


def _read(rules: RulesFile) -> dict[str, str]:
    """Rule name -> observed series of each metric rule (measure rules are data alerts)."""
    return {
        rule.name: rule.source.metric
        for rule in rules.rules
        if isinstance(rule.source, MetricSource)
    }


def duplicates(service_rules: dict[str, str], prometheus: dict[str, str]) -> dict[str, Any]:
    """Alerts-service rule -> the Prometheus alerts that watch the same series, when any."""
    found = {}
    for name, metric in service_rules.items():
        same = PROMETHEUS_EQUIVALENTS[metric]
        twins = sorted(
            alert
            for alert, expr in prometheus.items()
            if same & {selector.name for selector in used_selectors(expr)}
        )
        if twins or name in prometheus:
            found[name] = twins or [name]
    return found


def test_every_observed_series_has_its_equivalents_listed() -> None:
    """The mapping covers every series the default rules file documents as observed."""
    header = DEFAULT_RULES_FILE.read_text().split("evaluation_interval")[0]
    documented = set(re.findall(r"^#\s{3}(\w+)", header, re.MULTILINE))
    assert documented == set(PROMETHEUS_EQUIVALENTS)


def test_no_rule_exists_in_both_places() -> None:
    """No shipped rule of the alerts service watches what a Prometheus rule watches, and no
    name is used by both."""
    shipped = _read(read_rules(DEFAULT_RULES_FILE))
    assert shipped, "the alerts service ships no metric rule: check the file is read"
    assert duplicates(shipped, _prometheus_alerts()) == {}


def test_the_check_finds_a_rule_in_both_places() -> None:
    """The check can fail: a queue backlog rule in the alerts service is Prometheus's
    JetStreamConsumerPendingHigh again."""
    found = duplicates({"QueueBacklog": "consumer_pending"}, _prometheus_alerts())
    assert found == {"QueueBacklog": ["JetStreamConsumerPendingHigh"]}


def test_operations_lists_each_alert_once_with_its_source() -> None:
    """docs/operations.md's table names every alert once, with the sender that sends it."""
    section = OPERATIONS.read_text().split("## Where each alert comes from")[1].split("\n## ")[0]
    rows = re.findall(r"^\| `(\w+)` \| ([^|]+) \|", section, re.MULTILINE)
    listed = [name for name, _ in rows]
    assert len(listed) == len(set(listed))
    expected = {name: "Prometheus" for name in _prometheus_alerts()}
    expected |= {rule.name: "alerts service" for rule in read_rules(DEFAULT_RULES_FILE).rules}
    assert {name: source.strip() for name, source in rows} == expected
