"""Thresholds of the shipped rules set in the environment (``ALERT_<RULE>_THRESHOLD``, and
seed 004's ``ALERT_ERROR_RATE_THRESHOLD`` / ``ALERT_QUEUE_DEPTH_THRESHOLD``), applied to the
rules file at every read."""

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from tally.alerts.config import (
    DEFAULT_RULES_FILE,
    STANDALONE_RULES_FILE,
    THRESHOLD_SETTINGS,
    AlertsSettings,
)
from tally.alerts.engine import AlertEngine
from tally.alerts.reloading import RulesSource, read_rules

T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def environment() -> Iterator[dict[str, str]]:
    """Variables put here are in os.environ while AlertsSettings() reads it."""
    values: dict[str, str] = {}
    yield values
    for key in values:
        os.environ.pop(key, None)


def settings_with(environment: dict[str, str], **values: str) -> AlertsSettings:
    environment.update(values)
    os.environ.update(values)
    return AlertsSettings()


def _thresholds(source: RulesSource) -> dict[str, float]:
    return {rule.name: rule.condition.threshold for rule in source.load().rules}


def test_every_shipped_rule_has_its_setting() -> None:
    """Each rule of default_rules.yaml and standalone_rules.yaml has
    ALERT_<RULE IN UPPER SNAKE CASE>_THRESHOLD."""
    shipped = {
        rule.name
        for path in (DEFAULT_RULES_FILE, STANDALONE_RULES_FILE)
        for rule in read_rules(path).rules
    }
    assert set(THRESHOLD_SETTINGS) == shipped
    for rule, name in THRESHOLD_SETTINGS.items():
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", rule).lower()
        assert name == f"alert_{snake}_threshold" and name in AlertsSettings.model_fields


def test_the_environment_overrides_the_shipped_thresholds(
    environment: dict[str, str],
) -> None:
    """ALERT_QUEUE_BACKLOG_THRESHOLD=50 and ALERT_DATABASE_SLOW_THRESHOLD=250 replace those
    two; the other rules keep the file's."""
    settings = settings_with(
        environment, ALERT_QUEUE_BACKLOG_THRESHOLD="50", ALERT_DATABASE_SLOW_THRESHOLD="250"
    )
    file = _thresholds(RulesSource(STANDALONE_RULES_FILE))
    overridden = _thresholds(RulesSource(STANDALONE_RULES_FILE, settings.threshold_overrides()))
    assert (file["QueueBacklog"], file["DatabaseSlow"]) == (1000, 500)
    assert (overridden["QueueBacklog"], overridden["DatabaseSlow"]) == (50, 250)
    assert {k: v for k, v in overridden.items() if k not in {"QueueBacklog", "DatabaseSlow"}} == {
        k: v for k, v in file.items() if k not in {"QueueBacklog", "DatabaseSlow"}
    }


def test_empty_variables_count_as_unset(environment: dict[str, str]) -> None:
    """docker-compose passes ``${ALERT_QUEUE_BACKLOG_THRESHOLD:-}``: empty is no override."""
    settings = settings_with(environment, ALERT_QUEUE_BACKLOG_THRESHOLD="", ALERTS_ENABLED="")
    assert settings.threshold_overrides() == {} and settings.alerts_enabled is True


def test_compose_passes_every_threshold_to_the_alerts_service() -> None:
    """docker-compose.yml's alerts service has ALERTS_ENABLED and every threshold variable."""
    compose = yaml.safe_load((Path(__file__).parents[3] / "docker-compose.yml").read_text())
    environment = compose["services"]["alerts"]["environment"]
    names = [*THRESHOLD_SETTINGS.values(), "alert_error_rate_threshold"]
    wanted = {"ALERTS_ENABLED", "ALERT_QUEUE_DEPTH_THRESHOLD", *(n.upper() for n in names)}
    assert wanted <= set(environment)


def test_seed_004_names_are_read(environment: dict[str, str]) -> None:
    """ALERT_ERROR_RATE_THRESHOLD is a percentage (5.0 -> 0.05 of questions failed);
    ALERT_QUEUE_DEPTH_THRESHOLD is QueueBacklog's message count."""
    settings = settings_with(
        environment, ALERT_ERROR_RATE_THRESHOLD="5.0", ALERT_QUEUE_DEPTH_THRESHOLD="50"
    )
    assert settings.threshold_overrides() == {"HighQuestionErrorRate": 0.05, "QueueBacklog": 50}


@pytest.mark.parametrize(
    "values",
    [
        {"ALERT_ERROR_RATE_THRESHOLD": "5", "ALERT_HIGH_QUESTION_ERROR_RATE_THRESHOLD": "0.1"},
        {"ALERT_HIGH_QUESTION_ERROR_RATE_THRESHOLD": "5"},
        {"ALERT_INGEST_LAG_THRESHOLD": "lots"},
        {"ALERTS_ENABLED": "maybe"},
    ],
)
def test_bad_values_are_refused_when_read(
    environment: dict[str, str], values: dict[str, str]
) -> None:
    """Both names of one threshold, a ratio above 1, a word, a non-boolean: refused at
    start with the variable named."""
    with pytest.raises(ValidationError):
        settings_with(environment, **values)


def test_an_override_survives_a_reload(tmp_path: Path) -> None:
    """The file changes (IngestLag to 20,000): the override of IngestLag (5,000) still wins;
    a rule the new file does not have is ignored."""
    path = tmp_path / "rules.yaml"
    text = STANDALONE_RULES_FILE.read_text()
    path.write_text(text)
    source = RulesSource(path, {"IngestLag": 5000, "Gone": 1})
    assert _thresholds(source)["IngestLag"] == 5000
    path.write_text(text.replace("threshold: 10000", "threshold: 20000"))
    source.request_reload()
    reloaded = source.changed()
    assert reloaded is not None
    assert {rule.name: rule.condition.threshold for rule in reloaded.rules}["IngestLag"] == 5000


async def test_the_engine_fires_on_the_overridden_threshold() -> None:
    """DatabaseSlow at 300 ms: quiet with the file's 500 ms, firing (after its 5 min) with
    ALERT_DATABASE_SLOW_THRESHOLD=250."""

    async def fired(thresholds: dict[str, float]) -> list[str]:
        engine = AlertEngine(RulesSource(DEFAULT_RULES_FILE, thresholds).load())
        names: list[str] = []
        for second in range(0, 12 * 60, 15):
            now = T0 + timedelta(seconds=second)
            engine.samples.record("database_up", 1, now.timestamp())
            engine.samples.record("database_latency_ms", 300, now.timestamp())
            for notification in await engine.evaluate(now):
                names += [alert.name for alert in notification.alerts]
        return names

    assert await fired({}) == []
    assert "DatabaseSlow" in await fired({"DatabaseSlow": 250})
