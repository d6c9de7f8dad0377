"""Where the deploy files are, which services Tally has, and the settings each one reads."""

from pathlib import Path

from pydantic_settings import BaseSettings

from tally.alerts.config import AlertsSettings
from tally.cli.config import CliSettings
from tally.dashboard.config import DashboardSettings
from tally.executor.config import ExecutorSettings
from tally.gateway.config import GatewaySettings
from tally.infra.settings import CommonSettings
from tally.ingest.config import IngestSettings
from tally.nl2sql.config import Nl2sqlSettings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
TALLY_SERVICES = ("gateway", "nl2sql", "executor", "ingest", "alerts", "dashboard")
"""The workspace members under services/ (test_compose checks this list against the tree)."""

SETTINGS: dict[str, tuple[type[BaseSettings], ...]] = {
    "gateway": (GatewaySettings,),
    "nl2sql": (Nl2sqlSettings,),
    "executor": (ExecutorSettings,),
    "ingest": (IngestSettings,),
    "alerts": (AlertsSettings,),
    "dashboard": (DashboardSettings,),
    "cli": (CliSettings, CommonSettings),
}
"""The settings classes whose fields a service's environment may set."""


def health_port(service: str) -> int:
    """The port of ``service``'s /health and /metrics in the deployments (dashboard: its own)."""
    return 8000 if service == "dashboard" else 9100


def unknown_settings(service: str, names: set[str]) -> set[str]:
    """The environment variables in ``names`` that no settings class of ``service`` reads."""
    fields = {field for cls in SETTINGS[service] for field in cls.model_fields}
    return {name for name in names if name.lower() not in fields}
