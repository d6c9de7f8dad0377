"""Alerts settings (thresholds from the environment, as seed 004 asks)."""

from pydantic import Field

from tally.common.settings import CommonSettings


class AlertsSettings(CommonSettings):
    """The failure-rate rule: fire when, over the last ``alert_window_s`` seconds, at least
    ``alert_min_questions`` questions were asked and the share that failed is at least
    ``alert_failure_rate`` (0.2 = 20 %). Refusals are not failures."""

    alert_window_s: float = Field(default=300.0, gt=0)
    alert_failure_rate: float = Field(default=0.2, gt=0, le=1)
    alert_min_questions: int = Field(default=10, ge=1)
    alert_check_interval_s: float = Field(default=5.0, gt=0)
