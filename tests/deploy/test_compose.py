"""docker-compose.yml: valid against the Compose Specification, and wired as Tally needs.

No Docker here: the file is read as YAML (merge keys resolved, like Compose does) and checked
against the Compose Specification's JSON schema (tests/deploy/schemas, see its README), then
for what Tally needs: health checks that really probe /health/ready, start order, non-root
users, pinned images, settings every service actually reads, no secret written in the file.
"""

import copy
import http.server
import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.deploy.layout import DEPLOY, ROOT, TALLY_SERVICES, health_port, unknown_settings

SCHEMA = Path(__file__).parent / "schemas" / "compose-spec.json"
INTERPOLATION = re.compile(r"\$\{[A-Z0-9_]+(:?[-?][^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text()))


def _service(compose: dict[str, Any], name: str) -> dict[str, Any]:
    service: dict[str, Any] = compose["services"][name]
    return service


def test_compose_file_is_valid_against_the_compose_specification(
    compose: dict[str, Any], validator: jsonschema.Draft202012Validator
) -> None:
    """docker-compose.yml has no error under the Compose Specification's schema."""
    errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []


def test_the_schema_rejects_a_misspelt_key(
    compose: dict[str, Any], validator: jsonschema.Draft202012Validator
) -> None:
    """The vendored schema is strict: a typo (`helthcheck`) or a bad condition is an error."""
    broken = copy.deepcopy(compose)
    broken["services"]["ingest"]["helthcheck"] = broken["services"]["ingest"].pop("healthcheck")
    assert not validator.is_valid(broken)
    broken = copy.deepcopy(compose)
    broken["services"]["ingest"]["depends_on"]["migrate"]["condition"] = "service_done"
    assert not validator.is_valid(broken)


def test_every_workspace_service_is_in_the_stack(compose: dict[str, Any]) -> None:
    """Each member under services/ is a compose service built from deploy/Dockerfile."""
    members = {path.name for path in (ROOT / "services").iterdir() if path.is_dir()}
    assert members == set(TALLY_SERVICES)
    for name in TALLY_SERVICES:
        build = _service(compose, name)["build"]
        assert build["dockerfile"] == "deploy/Dockerfile" and build["context"] == "."
        assert build["args"]["SERVICE"] == name


@pytest.mark.parametrize("name", TALLY_SERVICES)
def test_service_is_healthy_only_when_ready_and_starts_after_its_dependencies(
    compose: dict[str, Any], name: str
) -> None:
    """The health check is Python hitting /health/ready on the service's own port; the service
    waits for the migrations to complete and for NATS and PostgreSQL to be healthy."""
    service = _service(compose, name)
    test = service["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"], "slim images have no curl: use python"
    assert f"http://127.0.0.1:{health_port(name)}/health/ready" in test[3]
    depends = service["depends_on"]
    assert depends["migrate"] == {"condition": "service_completed_successfully"}
    assert depends["nats"] == {"condition": "service_healthy"}
    assert depends["postgres"] == {"condition": "service_healthy"}
    port = service["environment"].get("DASHBOARD_PORT" if name == "dashboard" else "METRICS_PORT")
    assert int(port) == health_port(name)


def test_migrations_run_once_before_anything_reads_the_database(compose: dict[str, Any]) -> None:
    """`migrate` runs `tally migrate` when PostgreSQL is healthy, and is not restarted."""
    migrate = _service(compose, "migrate")
    assert migrate["command"] == ["tally", "migrate"]
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert migrate["restart"] == "no"
    assert migrate["build"]["args"]["SERVICE"] == "cli"


def test_tally_containers_run_as_the_images_non_root_user(compose: dict[str, Any]) -> None:
    """Every service built from deploy/Dockerfile (or its cli image) runs as uid 10001."""
    for name, service in compose["services"].items():
        if "build" in service or str(service.get("image", "")).startswith("${TALLY_IMAGE_PREFIX"):
            assert service.get("user") == "10001:10001", name


def test_third_party_images_are_pinned(compose: dict[str, Any]) -> None:
    """Every image that is not built here names a version tag, never `latest` or none."""
    for name, service in compose["services"].items():
        if "build" in service or "TALLY_IMAGE_PREFIX" in str(service.get("image")):
            continue
        image = service["image"]
        tag = image.rpartition(":")[2] if ":" in image else ""
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{name}: {image}"


@pytest.mark.parametrize("name", [*TALLY_SERVICES, "migrate"])
def test_environment_names_only_settings_the_service_reads(
    compose: dict[str, Any], name: str
) -> None:
    """A misspelt variable would be ignored silently (settings ignore extras): none is."""
    settings = "cli" if name == "migrate" else name
    assert unknown_settings(settings, set(_service(compose, name)["environment"])) == set()


def test_no_secret_is_written_in_the_compose_file(compose: dict[str, Any]) -> None:
    """Passwords, tokens and keys come from .env: each is a required ${VAR:?...} or left empty."""
    secret = re.compile(r"PASSWORD|TOKEN|API_KEY|_PASS$")
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            text = str(value)
            if secret.search(key):
                assert text.startswith("${") and INTERPOLATION.fullmatch(text), (name, key)
            for password in re.findall(r"://[^:/@]+:([^@]*)@", text):
                assert INTERPOLATION.fullmatch(password), (name, key)


def test_env_example_has_every_required_variable_and_no_value(compose: dict[str, Any]) -> None:
    """deploy/.env.example names each ${VAR:?} the file requires, with an empty value."""
    required = set(re.findall(r"\$\{([A-Z0-9_]+):\?", (ROOT / "docker-compose.yml").read_text()))
    example = dict(
        line.split("=", 1)
        for line in (DEPLOY / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert required <= set(example)
    assert {key for key in required if example[key].strip()} == set()


def test_bind_mounted_files_exist(compose: dict[str, Any]) -> None:
    """Every ./deploy/... mounted into a container is in the repository."""
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), f"{name}: {source}"


def test_nats_runs_jetstream_with_monitoring(compose: dict[str, Any]) -> None:
    """NATS loads deploy/nats/nats.conf, which turns JetStream on and serves monitoring on
    8222 (the health check, the exporter and Prometheus read it)."""
    nats = _service(compose, "nats")
    assert nats["command"] == ["--config", "/etc/nats/nats.conf"]
    conf = (DEPLOY / "nats" / "nats.conf").read_text()
    assert re.search(r"^jetstream\s*\{", conf, re.M)
    assert re.search(r"^http_port:\s*8222$", conf, re.M)
    assert "8222/healthz" in " ".join(nats["healthcheck"]["test"])
    assert _service(compose, "nats-exporter")["command"][-1] == "http://nats:8222"


def test_traces_go_to_jaeger_over_otlp_http(compose: dict[str, Any]) -> None:
    """Services export to Jaeger's OTLP/HTTP port by default; Jaeger publishes 4317 and 4318."""
    env = _service(compose, "ingest")["environment"]
    assert (
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "${OTEL_EXPORTER_OTLP_ENDPOINT:-http://jaeger:4318}"
    )
    ports = {port.rsplit(":", 1)[1] for port in _service(compose, "jaeger")["ports"]}
    assert {"4317", "4318", "16686"} <= ports


class _Health(http.server.BaseHTTPRequestHandler):
    status = 204

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/health/ready" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[http.server.HTTPServer]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("status", "healthy"), [(204, True), (503, False)])
def test_the_healthcheck_command_passes_on_204_and_fails_on_503(
    compose: dict[str, Any], health_server: http.server.HTTPServer, status: int, healthy: bool
) -> None:
    """The compose health check, run for real against a server answering ``status``."""
    code = _service(compose, "ingest")["healthcheck"]["test"][3]
    port = health_server.server_address[1]
    _Health.status = status
    run = subprocess.run(
        [sys.executable, "-c", code.replace(":9100/", f":{port}/")],
        capture_output=True,
        timeout=10,
        check=False,
    )
    assert (run.returncode == 0) is healthy
