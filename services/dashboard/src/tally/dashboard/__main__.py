"""``python -m tally.dashboard``: serve the dashboard on DASHBOARD_HOST:DASHBOARD_PORT."""

import sys

import uvicorn
from pydantic import ValidationError

from tally.dashboard.app import SERVICE, create_app
from tally.dashboard.config import DashboardSettings
from tally.infra.telemetry import setup_logging, setup_tracing


def main() -> None:
    """Serve the dashboard with settings from the environment until stopped; exit with
    code 2 and the reason when the settings are refused (e.g. a non-local host without
    ADMIN_API_TOKEN)."""
    try:
        settings = DashboardSettings()
    except ValidationError as error:
        reasons = "; ".join(str(detail["msg"]) for detail in error.errors())
        print(f"tally-dashboard: refusing to start: {reasons}", file=sys.stderr)
        raise SystemExit(2) from None
    setup_logging(SERVICE, level=settings.log_level, json=settings.log_json)
    setup_tracing(
        SERVICE,
        otlp_endpoint=settings.otel_exporter_otlp_endpoint,
        otlp_traces_endpoint=settings.otel_exporter_otlp_traces_endpoint,
    )
    uvicorn.run(
        create_app(settings),
        host=settings.dashboard_host,
        port=settings.dashboard_port,
        loop="uvloop",
        log_level=settings.log_level.lower(),
        log_config=None,  # the logging setup_logging made
    )


if __name__ == "__main__":
    main()
