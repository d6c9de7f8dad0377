"""deploy/k8s/base: assembled like ``kustomize build`` and valid against Kubernetes' schemas.

The schemas are kubernetes-validate's (offline, strict: an unknown field is an error), for
the oldest and the newest Kubernetes release this check supports. Then what Tally needs:
one Deployment per service with probes on /health/live and /health/ready, non-root pods,
resources, a Service in front, settings each service reads, the migrate Job.
"""

import copy
from typing import Any

import pytest
import yaml
from kubernetes_validate import ValidationError, latest_version, validate

from tests.deploy.kustomize import UnsupportedKustomization, build, containers
from tests.deploy.layout import DEPLOY, TALLY_SERVICES, health_port, unknown_settings

BASE = DEPLOY / "k8s" / "base"
VERSIONS = ("1.28.0", latest_version())
Resource = dict[str, Any]


@pytest.fixture(scope="module")
def resources() -> list[Resource]:
    return build(BASE)


def _find(resources: list[Resource], kind: str, name: str) -> Resource:
    return next(r for r in resources if r["kind"] == kind and r["metadata"]["name"] == name)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_object_is_valid_for_kubernetes(resources: list[Resource], version: str) -> None:
    """Each assembled object validates (strictly) against that release's schema."""
    for resource in resources:
        validate(resource, version, strict=True)


def test_the_secret_template_is_valid_but_not_applied(resources: list[Resource]) -> None:
    """secret.example.yaml is a valid Secret, holds only placeholders, and is not a resource:
    applying the base never installs placeholder secrets."""
    template = yaml.safe_load((BASE / "secret.example.yaml").read_text())
    validate(template, latest_version(), strict=True)
    assert all(r["kind"] != "Secret" for r in resources)
    for key, value in template["stringData"].items():
        assert value == "" or "REPLACE_ME" in value, key


def test_strict_validation_catches_a_misspelt_field(resources: list[Resource]) -> None:
    """The check can fail: `replica` instead of `replicas` is refused."""
    deployment = copy.deepcopy(_find(resources, "Deployment", "ingest"))
    deployment["spec"]["replica"] = deployment["spec"].pop("replicas")
    with pytest.raises(ValidationError):
        validate(deployment, latest_version(), strict=True)


def test_assembly_refuses_what_it_does_not_implement(tmp_path: Any) -> None:
    """A kustomization field the Python assembly lacks is an error, not silently skipped."""
    (tmp_path / "kustomization.yaml").write_text("resources: []\npatches: []\n")
    with pytest.raises(UnsupportedKustomization):
        build(tmp_path)


def test_assembly_applies_namespace_labels_and_images(resources: list[Resource]) -> None:
    """Every object is in namespace tally (the Namespace is it), labelled part-of tally, and
    images carry the kustomization's tag."""
    for resource in resources:
        metadata = resource["metadata"]
        assert metadata["labels"]["app.kubernetes.io/part-of"] == "tally"
        assert metadata.get("namespace", metadata["name"]) == "tally"
    image = containers(_find(resources, "Deployment", "executor"))[0]["image"]
    assert image == "tally/executor:dev"


@pytest.mark.parametrize("name", TALLY_SERVICES)
def test_deployment_probes_health_and_runs_as_non_root(
    resources: list[Resource], name: str
) -> None:
    """Readiness on /health/ready and liveness on /health/live, on the container's named port
    (the service's METRICS_PORT / DASHBOARD_PORT); the pod and container refuse root; requests
    and a memory limit are set."""
    deployment = _find(resources, "Deployment", name)
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    for probe, path in [("readinessProbe", "/health/ready"), ("livenessProbe", "/health/live")]:
        http = container[probe]["httpGet"]
        assert http["path"] == path
        assert ports[http["port"]] == health_port(name)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert container["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]
    assert container["image"].startswith(f"tally/{name}:")


@pytest.mark.parametrize("name", TALLY_SERVICES)
def test_a_service_selects_each_deployment_on_its_health_port(
    resources: list[Resource], name: str
) -> None:
    """The Service named like the Deployment selects its pods and exposes the metrics port."""
    deployment = _find(resources, "Deployment", name)
    service = _find(resources, "Service", name)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert [p["port"] for p in service["spec"]["ports"]] == [health_port(name)]


@pytest.mark.parametrize("name", TALLY_SERVICES)
def test_environment_names_only_settings_the_service_reads(
    resources: list[Resource], name: str
) -> None:
    """The ConfigMap's keys and each container's own variables are settings the service reads
    (the ConfigMap is shared: a key must be read by at least one service)."""
    (container,) = containers(_find(resources, "Deployment", name))
    assert unknown_settings(name, {e["name"] for e in container["env"]}) == set()
    config = _find(resources, "ConfigMap", "tally-config")["data"]
    read_by_some = [unknown_settings(service, set(config)) for service in TALLY_SERVICES]
    assert set.intersection(*read_by_some) == set()


def test_every_secret_a_pod_reads_is_in_the_template(resources: list[Resource]) -> None:
    """Each secretKeyRef names tally-secrets and a key the template documents."""
    template = yaml.safe_load((BASE / "secret.example.yaml").read_text())
    for resource in resources:
        for container in containers(resource):
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] == "tally-secrets"
                    assert ref["key"] in template["stringData"]


def test_singletons_are_replaced_not_rolled(resources: list[Resource]) -> None:
    """gateway (one Telegram long-poller per token) and alerts (its window is in memory) run
    one replica with the Recreate strategy; the others run more than one."""
    for name in TALLY_SERVICES:
        spec = _find(resources, "Deployment", name)["spec"]
        if name in {"gateway", "alerts"}:
            assert spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}
        else:
            assert spec["replicas"] >= 2


def test_migrate_job_runs_tally_migrate_as_non_root(resources: list[Resource]) -> None:
    """The Job runs `tally migrate` from the cli image with the owner's DATABASE_URL."""
    job = _find(resources, "Job", "tally-migrate")
    pod = job["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["tally", "migrate"]
    assert container["image"].startswith("tally/cli:")
    assert [e["name"] for e in container["env"]] == ["DATABASE_URL"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert unknown_settings("cli", {e["name"] for e in container["env"]}) == set()
