"""Alerts settings: where the rules file is, and the probes' limits."""

from pathlib import Path

from pydantic import Field, SecretStr
from sqlalchemy.engine import URL

from tally.infra.db.models import READER_ROLE
from tally.infra.settings import CommonSettings, login_as, to_asyncpg_url

DEFAULT_RULES_FILE = Path(__file__).parent / "default_rules.yaml"
"""The rules shipped with the service (seed 004's defaults)."""


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
    never)."""

    alert_rules_file: Path = DEFAULT_RULES_FILE
    alert_probe_timeout_s: float = Field(default=2.0, gt=0)
    alerts_reader_database_url: SecretStr | None = None
    statement_timeout_ms: int = Field(default=5000, ge=10)
    alert_history_days: int = Field(default=90, ge=1, le=36_500)
    alert_retention_interval_s: float = Field(default=3600.0, ge=0)

    @property
    def reader_url(self) -> URL:
        if self.alerts_reader_database_url:
            return to_asyncpg_url(self.alerts_reader_database_url.get_secret_value())
        return login_as(self.database_url, READER_ROLE)
