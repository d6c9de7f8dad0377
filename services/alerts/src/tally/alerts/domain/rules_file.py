"""The rules file: Prometheus alerting rules plus Alertmanager's route and inhibition.

Shape (YAML)::

    evaluation_interval: 15s
    route: {group_by: [alertname], group_wait: 30s, group_interval: 5m, repeat_interval: 4h}
    inhibit_rules:
      - {source_matchers: [severity=critical], target_matchers: [severity=warning],
         equal: [component]}
    rules:
      - name: DatabaseDown
        source: {metric: database_up, reduce: last, window: 1m}
        condition: {op: "<", threshold: 1}
        for: 30s
        severity: critical
        labels: {component: database}
        summary: PostgreSQL does not answer

Durations are Prometheus duration strings (``90s``, ``5m``, ``1h30m``, ``1d``) or plain
seconds; they become the models' ``*_s`` fields. :func:`parse_rules_file` raises
:class:`RulesFileError` with the path and the first problem found.
"""

import re
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tally.alerts.domain.matchers import MatcherError, parse_matchers
from tally.alerts.domain.rules import MetricSource, Rule
from tally.infra.errors import TallyError

_DURATION = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$"
)
_UNITS_S = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)
_DURATION_KEYS = {
    "evaluation_interval",
    "group_wait",
    "group_interval",
    "repeat_interval",
    "for",
    "keep_firing_for",
    "window",
    "offset",
}


class RulesFileError(TallyError):
    """The rules file is unreadable or invalid; the previous rules stay in force."""


def parse_duration(text: str | float) -> float:
    """Seconds in a Prometheus duration (``"5m"`` -> 300.0); numbers are seconds already.
    Raise ValueError on anything else (an empty string, ``"5 minutes"``)."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    found = _DURATION.match(str(text).strip())
    if not found or not any(found.groups()):
        raise ValueError(f"{text!r} is not a duration (like 30s, 5m, 1h30m)")
    return float(sum(int(n) * unit for n, unit in zip(found.groups(), _UNITS_S, strict=False) if n))


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Route(_Model):
    """Alertmanager's route: how alerts are grouped and how often a group is notified
    (seconds). Defaults are Alertmanager's, but ``group_by`` defaults to ``[alertname]``."""

    group_by: tuple[str, ...] = ("alertname",)
    group_wait_s: float = Field(default=30.0, ge=0)
    group_interval_s: float = Field(default=300.0, gt=0)
    repeat_interval_s: float = Field(default=4 * 3600.0, gt=0)


class InhibitRule(_Model):
    """While an alert matching ``source_matchers`` fires, alerts matching ``target_matchers``
    whose ``equal`` labels have the same values are not notified."""

    source_matchers: tuple[str, ...]
    target_matchers: tuple[str, ...]
    equal: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _matchers_parse(self) -> "InhibitRule":
        parse_matchers(self.source_matchers + self.target_matchers)
        return self


class RulesFile(_Model):
    """Everything the rules file holds; rule names are unique."""

    evaluation_interval_s: float = Field(default=15.0, gt=0)
    route: Route = Route()
    inhibit_rules: tuple[InhibitRule, ...] = ()
    rules: tuple[Rule, ...] = ()

    @model_validator(mode="after")
    def _names_unique(self) -> "RulesFile":
        names = [rule.name for rule in self.rules]
        if duplicated := sorted({name for name in names if names.count(name) > 1}):
            raise ValueError(f"rule names must be unique: {', '.join(duplicated)}")
        for rule in self.rules:
            if isinstance(rule.source, MetricSource):
                parse_matchers(rule.source.matchers)
        return self


def _seconds_keys(node: Any) -> Any:
    """``node`` with duration keys renamed ``*_s`` and their values in seconds."""
    if not isinstance(node, dict):
        return node
    converted: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DURATION_KEYS:
            converted[f"{key}_s"] = parse_duration(value)
        elif key == "source" and isinstance(value, dict):
            converted[key] = {"kind": "metric" if "metric" in value else "measure"}
            converted[key].update(_seconds_keys(value))
        elif key == "route":
            converted[key] = _seconds_keys(value)
        elif key == "rules" and isinstance(value, list):
            converted[key] = [_seconds_keys(rule) for rule in value]
        else:
            converted[key] = value
    return converted


def parse_rules_file(text: str, *, path: str = "<rules>") -> RulesFile:
    """Parse the YAML ``text`` of a rules file; raise :class:`RulesFileError` naming ``path``
    and what is wrong (YAML syntax, an unknown field, a bad duration or matcher)."""
    try:
        raw = yaml.safe_load(text) or {}
        if not isinstance(raw, dict):
            raise ValueError("the top level must be a mapping")
        return RulesFile.model_validate(_seconds_keys(raw))
    except (yaml.YAMLError, ValueError, MatcherError) as error:
        raise RulesFileError(f"invalid rules file {path}: {_describe(error)}") from error


def _describe(error: Exception) -> str:
    """One line per problem: ``rules.2.condition.op: Input should be ...``."""
    if isinstance(error, MatcherError):
        return error.message
    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
    return str(error).replace("\n", " ")
