"""The rules file: durations, the shipped defaults, parse errors, and reloads that keep the
previous rules when the new file is invalid."""

import os
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from tally.alerts.config import DEFAULT_RULES_FILE
from tally.alerts.domain.rules import MetricSource
from tally.alerts.domain.rules_file import RulesFileError, parse_duration, parse_rules_file
from tally.alerts.reloading import RulesSource, read_rules

RULE = """
evaluation_interval: 1s
route: {group_by: [alertname], group_wait: 0s, group_interval: 2s, repeat_interval: 1h}
rules:
  - name: NAME
    source: {metric: question_failure_ratio, reduce: avg, window: 1m}
    condition: {op: ">=", threshold: 0.5}
    for: 30s
    summary: failing
"""


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h30m", 5400), ("1d", 86400), ("250ms", 0.25), (90, 90)],
)
def test_prometheus_durations(text: str | int, seconds: float) -> None:
    """Prometheus duration strings become seconds; a number is seconds already."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5 minutes", "m5", "1.5h"])
def test_bad_durations(text: str) -> None:
    """Anything else is refused."""
    with pytest.raises(ValueError):
        parse_duration(text)


def test_shipped_defaults() -> None:
    """The packaged file holds what only this service measures (the ``select 1`` probe's
    latency; Prometheus has the stack's other rules), the route and the
    critical-mutes-warning inhibition."""
    rules = read_rules(DEFAULT_RULES_FILE)
    assert {rule.name for rule in rules.rules} == {"DatabaseSlow"}
    [slow] = rules.rules
    assert isinstance(slow.source, MetricSource)
    assert (slow.source.metric, slow.source.window_s, slow.for_s) == (
        "database_latency_ms",
        300,
        300,
    )
    assert slow.condition.threshold == 500
    assert rules.inhibit_rules[0].source_matchers == ('severity="critical"',)
    assert rules.route.repeat_interval_s == 4 * 3600


def test_durations_in_rules_become_seconds() -> None:
    """``for``, ``window`` and the route's intervals are read as durations."""
    rules = parse_rules_file(RULE.replace("NAME", "Failing"))
    assert rules.evaluation_interval_s == 1
    assert rules.route.group_interval_s == 2
    assert rules.rules[0].for_s == 30
    assert rules.rules[0].source.window_s == 60


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("rules: [", "while parsing"),
        ("- a list", "top level must be a mapping"),
        ("evaluation_interval: soon", "'soon' is not a duration"),
        (
            "rules: [{name: X, source: {metric: m}, condition: {op: '!', threshold: 1}, "
            "summary: s}]",
            "rules.0.condition.op",
        ),
        ("colour: red", "colour: Extra inputs are not permitted"),
        (
            "inhibit_rules: [{source_matchers: ['a=~\"(\"'], target_matchers: []}]",
            "not a valid regular expression",
        ),
        (
            RULE.replace("NAME", "Twice") + RULE.replace("NAME", "Twice").split("rules:")[1],
            "rule names must be unique: Twice",
        ),
    ],
)
def test_parse_errors_name_the_file_and_the_problem(text: str, problem: str) -> None:
    """Every problem is a RulesFileError naming the path and what is wrong."""
    with pytest.raises(RulesFileError) as raised:
        parse_rules_file(text, path="/etc/tally/rules.yaml")
    assert "invalid rules file /etc/tally/rules.yaml" in str(raised.value)
    assert problem in str(raised.value)


def _touch(path: Path, text: str, mtime: float) -> None:
    path.write_text(text)
    os.utime(path, (mtime, mtime))


def test_reload_on_change_keeps_previous_rules_when_invalid(tmp_path: Path) -> None:
    """A changed file is re-read; an invalid one yields nothing (the caller keeps its rules)
    and is logged; fixing it is picked up; SIGHUP's request re-reads an unchanged file."""
    path = tmp_path / "rules.yaml"
    _touch(path, RULE.replace("NAME", "First"), 1000)
    source = RulesSource(path)
    assert source.load().rules[0].name == "First"
    assert source.changed() is None
    _touch(path, "rules: [", 2000)
    with capture_logs() as logs:
        assert source.changed() is None
        assert source.changed() is None
    [error] = logs
    assert error["log_level"] == "error" and "invalid rules file" in error["error"]
    _touch(path, RULE.replace("NAME", "Second"), 3000)
    changed = source.changed()
    assert changed is not None and changed.rules[0].name == "Second"
    source.request_reload()
    again = source.changed()
    assert again is not None and again.rules[0].name == "Second"


def test_missing_file_at_start_is_an_error(tmp_path: Path) -> None:
    """The service does not start on a rules file it cannot read."""
    with pytest.raises(RulesFileError, match="cannot read rules file"):
        RulesSource(tmp_path / "nope.yaml").load()
