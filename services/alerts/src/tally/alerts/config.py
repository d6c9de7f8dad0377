"""Alerts settings: where the rules file is, and the probes' limits."""

from pathlib import Path

from pydantic import Field

from tally.common.settings import CommonSettings

DEFAULT_RULES_FILE = Path(__file__).parent / "default_rules.yaml"
"""The rules shipped with the service (seed 004's defaults)."""


class AlertsSettings(CommonSettings):
    """``alert_rules_file``: the YAML rules file (see tally.alerts.domain.rules_file); it sets
    the evaluation interval, the route and the rules. ``alert_probe_timeout_s``: how long the
    database probe (``select 1``) and the JetStream queries may take before they count as
    down (seconds)."""

    alert_rules_file: Path = DEFAULT_RULES_FILE
    alert_probe_timeout_s: float = Field(default=2.0, gt=0)
