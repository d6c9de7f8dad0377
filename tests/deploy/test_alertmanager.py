"""deploy/alertmanager: the config Alertmanager loads once its container rendered the bot
token and the chat id, and the same file in compose and Kubernetes."""

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.deploy.alertmanager import ALERTMANAGER_CONFIG, VARIABLES, render
from tests.deploy.layout import DEPLOY, ROOT

SAMPLE = {"BOT_TOKEN": "123456:sample-token", "TELEGRAM_ALERT_CHAT_ID": "-1001234567890"}


def _check(amtool: str, text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "alertmanager.yml"
    path.write_text(text)
    return subprocess.run(
        [amtool, "check-config", str(path)], capture_output=True, text=True, timeout=60
    )


def test_rendered_config_passes_amtool(amtool: str, tmp_path: Path) -> None:
    """`amtool check-config` accepts the rendered file: route, inhibitions, the receiver."""
    run = _check(amtool, render(SAMPLE), tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr


def test_amtool_refuses_a_config_left_unrendered(amtool: str, tmp_path: Path) -> None:
    """The check can fail: the chat id placeholder is not a number."""
    run = _check(amtool, ALERTMANAGER_CONFIG.read_text(), tmp_path)
    assert run.returncode != 0


def test_every_alert_goes_to_telegram_through_the_bot() -> None:
    """The route's receiver is the Telegram one, resolved alerts are sent too, and the token
    and chat are the only values rendered in (nothing secret in the file)."""
    config: dict[str, Any] = yaml.safe_load(render(SAMPLE))
    (receiver,) = config["receivers"]
    assert config["route"]["receiver"] == receiver["name"]
    (telegram,) = receiver["telegram_configs"]
    assert telegram["bot_token"] == SAMPLE["BOT_TOKEN"]
    assert telegram["chat_id"] == int(SAMPLE["TELEGRAM_ALERT_CHAT_ID"])
    assert telegram["send_resolved"] is True
    found = set(re.findall(r"\$\{(\w+)\}", ALERTMANAGER_CONFIG.read_text()))
    assert found == set(VARIABLES)


def test_compose_and_kubernetes_run_this_file() -> None:
    """Compose mounts it; the Kubernetes ConfigMap holds it unchanged."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    volumes = compose["services"]["alertmanager"]["volumes"]
    assert "./deploy/alertmanager/alertmanager.yml:/etc/alertmanager/alertmanager.yml:ro" in volumes
    manifests = yaml.safe_load_all((DEPLOY / "k8s" / "base" / "alertmanager.yaml").read_text())
    (config_map,) = [m for m in manifests if m["kind"] == "ConfigMap"]
    assert config_map["data"]["alertmanager.yml"] == ALERTMANAGER_CONFIG.read_text()


def test_prometheus_sends_its_alerts_to_alertmanager() -> None:
    """prometheus.yml's alerting section finds the compose service on its port through DNS
    (none without `--profile telegram`: no target, rather than one always down)."""
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    (manager,) = config["alerting"]["alertmanagers"]
    assert manager["dns_sd_configs"] == [{"names": ["alertmanager"], "type": "A", "port": 9093}]
