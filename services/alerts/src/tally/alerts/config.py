"""Alerts settings: where the rules file is, and the probes' limits."""

from pathlib import Path
from typing import Final

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict
from sqlalchemy.engine import URL

from tally.infra.db.models import READER_ROLE
from tally.infra.settings import CommonSettings, login_as, to_asyncpg_url

DEFAULT_RULES_FILE = Path(__file__).parent / "default_rules.yaml"
"""The rules the service loads by default: only what Prometheus has no series for
(DatabaseSlow, its own ``select 1`` probe); the stack's other failures are Prometheus's rules
(deploy/prometheus/rules), sent by Alertmanager."""
STANDALONE_RULES_FILE = Path(__file__).parent / "standalone_rules.yaml"
"""Seed 004's seven rules, for a deployment without Prometheus and Alertmanager (``tally up``):
the service then watches the stack itself (ALERT_RULES_FILE=this file)."""
THRESHOLD_SETTINGS: Final = {
    "HighQuestionErrorRate": "alert_high_question_error_rate_threshold",
    "QueueBacklog": "alert_queue_backlog_threshold",
    "IngestLag": "alert_ingest_lag_threshold",
    "LlmProviderDown": "alert_llm_provider_down_threshold",
    "DatabaseDown": "alert_database_down_threshold",
    "DatabaseSlow": "alert_database_slow_threshold",
    "DeadLettersGrowing": "alert_dead_letters_growing_threshold",
}
"""Each shipped rule (default_rules.yaml and standalone_rules.yaml) and the setting (env
``ALERT_<RULE>_THRESHOLD``, the rule's name in upper snake case) that overrides its threshold,
in the rule's unit, in whichever rules file is loaded."""


class AlertsSettings(CommonSettings):
    """``alert_rules_file``: the YAML rules file (see tally.alerts.domain.rules_file); it sets
    the evaluation interval, the route and the rules. ``alert_probe_timeout_s``: how long the
    database probe (``select 1``) and the JetStream queries may take before they count as
    down (seconds).

    Data alerts (``/watch``) read their measures as ``tally_reader``: the login
    ``alerts_reader_database_url`` (env ``ALERTS_READER_DATABASE_URL``, a secret: it may carry
    a password), else DATABASE_URL with the user replaced by ``tally_reader``, no password.
    Those sessions are read-only and ``statement_timeout_ms`` (env ``STATEMENT_TIMEOUT_MS``)
    bounds each statement, as in the executor.

    ``alert_history_days`` (env ``ALERT_HISTORY_DAYS``): alert history rows and ended silences
    older than that many days are deleted every ``alert_retention_interval_s`` seconds (0:
    never).

    ``alerts_enabled`` (env ``ALERTS_ENABLED``, seed 004's name): false turns the engine off;
    no rule is evaluated and nothing is notified, while the service stays up and healthy
    (commands, history, silences and digests still work). Thresholds: ``ALERT_<RULE>_THRESHOLD``
    (:data:`THRESHOLD_SETTINGS`) replaces a rule's threshold, in its unit, in whichever rules
    file is loaded (and again at each reload); seed 004's ``ALERT_ERROR_RATE_THRESHOLD`` (a
    percentage, e.g. 5.0) sets HighQuestionErrorRate's (a ratio: 0.05) and
    ``ALERT_QUEUE_DEPTH_THRESHOLD`` QueueBacklog's. Setting both names of one rule is refused.
    Seed 004's ``ALERT_RETRY_RATE_THRESHOLD`` has no rule here (Tally has no retry-rate
    metric) and is not read."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)
    """An empty variable counts as unset: docker-compose passes ``${ALERT_..._THRESHOLD:-}``."""

    alert_rules_file: Path = DEFAULT_RULES_FILE
    alert_probe_timeout_s: float = Field(default=2.0, gt=0)
    alerts_reader_database_url: SecretStr | None = None
    statement_timeout_ms: int = Field(default=5000, ge=10)
    alert_history_days: int = Field(default=90, ge=1, le=36_500)
    alert_retention_interval_s: float = Field(default=3600.0, ge=0)
    alerts_enabled: bool = True
    alert_high_question_error_rate_threshold: float | None = Field(default=None, ge=0, le=1)
    alert_queue_backlog_threshold: float | None = Field(default=None, ge=0)
    alert_ingest_lag_threshold: float | None = Field(default=None, ge=0)
    alert_llm_provider_down_threshold: float | None = Field(default=None, ge=0, le=1)
    alert_database_down_threshold: float | None = Field(default=None, ge=0, le=1)
    alert_database_slow_threshold: float | None = Field(default=None, ge=0)
    alert_dead_letters_growing_threshold: float | None = Field(default=None, ge=0)
    alert_error_rate_threshold: float | None = Field(default=None, ge=0, le=100)
    alert_queue_depth_threshold: float | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_name_per_threshold(self) -> "AlertsSettings":
        seed = {
            "alert_error_rate_threshold": "alert_high_question_error_rate_threshold",
            "alert_queue_depth_threshold": "alert_queue_backlog_threshold",
        }
        for alias, name in seed.items():
            if getattr(self, alias) is not None and getattr(self, name) is not None:
                raise ValueError(f"set {alias.upper()} or {name.upper()}, not both")
        return self

    def threshold_overrides(self) -> dict[str, float]:
        """Rule name -> the threshold set in the environment (rules not named keep theirs)."""
        overrides = {
            rule: value
            for rule, name in THRESHOLD_SETTINGS.items()
            if (value := getattr(self, name)) is not None
        }
        if self.alert_error_rate_threshold is not None:
            overrides["HighQuestionErrorRate"] = self.alert_error_rate_threshold / 100
        if self.alert_queue_depth_threshold is not None:
            overrides["QueueBacklog"] = self.alert_queue_depth_threshold
        return overrides

    @property
    def reader_url(self) -> URL:
        if self.alerts_reader_database_url:
            return to_asyncpg_url(self.alerts_reader_database_url.get_secret_value())
        return login_as(self.database_url, READER_ROLE)
