"""The bus's users in the deployments: deploy/nats/auth.conf is the generated table, NATS
refuses to start without every password, and each service logs in as itself."""

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tally.contracts.access import IDENTITIES, permissions
from tally.contracts.subjects import Subjects
from tally.runtime.nats_config import authorization, password_variable
from tests.deploy.kustomize import build, containers
from tests.deploy.layout import DEPLOY, ROOT, TALLY_SERVICES

NATS = DEPLOY / "nats"
SERVER = Path(sys.executable).parent / "nats-server"
PASSWORDS = {password_variable(identity).name: "p" * 20 for identity in IDENTITIES}


def test_auth_conf_is_the_generated_table() -> None:
    """deploy/nats/auth.conf is `tally nats-auth` for the prefix `tally`: regenerate it when
    tally.contracts.access changes."""
    expected = authorization(
        permissions(Subjects("tally")), {i: password_variable(i) for i in IDENTITIES}
    )
    assert (NATS / "auth.conf").read_text() == expected


def _check(tmp_path: Path, environment: dict[str, str]) -> "subprocess.CompletedProcess[str]":
    """``nats-server -t`` on a copy of the deployed config (its store moved under tmp_path)."""
    config = (NATS / "nats.conf").read_text().replace("/data", str(tmp_path / "data"))
    (tmp_path / "nats.conf").write_text(config)
    (tmp_path / "auth.conf").write_text((NATS / "auth.conf").read_text())
    return subprocess.run(
        [str(SERVER), "-t", "-c", str(tmp_path / "nats.conf")],
        env={"PATH": os.environ.get("PATH", ""), **environment},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_nats_conf_includes_the_users_and_needs_every_password(tmp_path: Path) -> None:
    """With every NATS_PASSWORD_* set the configuration is valid; without one it is not."""
    assert re.search(r"^include \./auth\.conf$", (NATS / "nats.conf").read_text(), re.M)
    assert _check(tmp_path, PASSWORDS).returncode == 0
    missing = {k: v for k, v in PASSWORDS.items() if k != "NATS_PASSWORD_INGEST"}
    refused = _check(tmp_path, missing)
    assert refused.returncode != 0 and "NATS_PASSWORD_INGEST" in refused.stdout + refused.stderr


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def _login(environment: dict[str, Any], user: str) -> None:
    assert environment["NATS_USER"] == user
    variable = password_variable(user).name
    assert environment["NATS_PASSWORD"].startswith(f"${{{variable}:?")


def test_compose_gives_each_service_its_own_user(compose: dict[str, Any]) -> None:
    """Each service logs in as itself, the streams and sample-data one-offs as admin; NATS
    gets every password; the services wait for the streams to be declared."""
    services = compose["services"]
    for name in TALLY_SERVICES:
        _login(services[name]["environment"], name)
        assert services[name]["depends_on"]["streams"] == {
            "condition": "service_completed_successfully"
        }
    for name in ("streams", "sample-data"):
        _login(services[name]["environment"], "admin")
    assert services["streams"]["command"] == ["tally", "declare-streams"]
    assert set(services["nats"]["environment"]) == set(PASSWORDS)
    assert "./deploy/nats/auth.conf:/etc/nats/auth.conf:ro" in services["nats"]["volumes"]


def test_kubernetes_gives_each_service_its_own_user() -> None:
    """Each Deployment's NATS_USER is its name and its password its own secret key; the
    streams Job declares them as admin; the Secret template names every password."""
    resources = build(DEPLOY / "k8s" / "base")
    template = yaml.safe_load((DEPLOY / "k8s" / "base" / "secret.example.yaml").read_text())
    assert set(PASSWORDS) <= set(template["stringData"])
    users = {}
    for resource in resources:
        for container in containers(resource):
            env = {e["name"]: e for e in container.get("env", [])}
            if "NATS_USER" in env:
                key = env["NATS_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"]
                user = env["NATS_USER"]["value"]
                assert key == password_variable(user).name, user
                users[resource["metadata"]["name"]] = (user, container.get("command"))
    assert {name: users[name][0] for name in TALLY_SERVICES} == {n: n for n in TALLY_SERVICES}
    assert users["tally-streams"] == ("admin", ["tally", "declare-streams"])
