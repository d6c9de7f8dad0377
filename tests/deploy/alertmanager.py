"""deploy/alertmanager/alertmanager.yml rendered as its container renders it at start."""

from pathlib import Path

from tests.deploy.layout import DEPLOY

ALERTMANAGER_CONFIG = DEPLOY / "alertmanager" / "alertmanager.yml"
VARIABLES = ("BOT_TOKEN", "TELEGRAM_ALERT_CHAT_ID")
"""What the container's `sed` replaces (docker-compose.yml, deploy/k8s/base/alertmanager.yaml)."""


def render(values: dict[str, str], source: Path = ALERTMANAGER_CONFIG) -> str:
    """The config with each ``${NAME}`` of :data:`VARIABLES` replaced by ``values[NAME]``
    (KeyError for a missing one)."""
    text = source.read_text()
    for name in VARIABLES:
        text = text.replace("${" + name + "}", values[name])
    return text
