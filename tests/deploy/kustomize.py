"""The part of ``kustomize build`` that deploy/k8s/base uses, in Python (no kubectl here).

Supported kustomization fields: ``resources`` (files in the same directory), ``namespace``
(set on every object but a Namespace), ``labels`` with ``includeSelectors: false`` (added to
each object's metadata.labels, as kustomize does), and ``images`` (``newName`` / ``newTag`` on
matching containers of pod templates). Any other field raises ``UnsupportedKustomization``,
so the base cannot drift into something this assembly would get wrong.
"""

from pathlib import Path
from typing import Any

import yaml

Resource = dict[str, Any]
SUPPORTED = frozenset({"apiVersion", "kind", "namespace", "labels", "resources", "images"})


class UnsupportedKustomization(Exception):
    """The kustomization uses a field or form this assembly does not implement."""


def build(directory: Path) -> list[Resource]:
    """Every object of the kustomization in ``directory``, transformed as kustomize would."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    if unsupported := set(kustomization) - SUPPORTED:
        raise UnsupportedKustomization(f"fields {sorted(unsupported)}")
    resources = [
        doc
        for name in kustomization["resources"]
        for doc in yaml.safe_load_all((directory / name).read_text())
        if doc
    ]
    for resource in resources:
        _namespace(resource, kustomization.get("namespace"))
        for label in kustomization.get("labels", []):
            _labels(resource, label)
        for image in kustomization.get("images", []):
            _image(resource, image)
    return resources


def _namespace(resource: Resource, namespace: str | None) -> None:
    if namespace and resource["kind"] != "Namespace":
        resource["metadata"]["namespace"] = namespace


def _labels(resource: Resource, label: dict[str, Any]) -> None:
    if label.get("includeSelectors") or label.get("includeTemplates"):
        raise UnsupportedKustomization("labels with includeSelectors or includeTemplates")
    resource["metadata"].setdefault("labels", {}).update(label["pairs"])


def containers(resource: Resource) -> list[dict[str, Any]]:
    """The containers of a Deployment's or a Job's pod template (none for other kinds)."""
    if resource["kind"] not in {"Deployment", "Job"}:
        return []
    spec = resource["spec"]["template"]["spec"]
    found: list[dict[str, Any]] = [*spec.get("initContainers", []), *spec["containers"]]
    return found


def _image(resource: Resource, image: dict[str, str]) -> None:
    for container in containers(resource):
        name, _, tag = container["image"].partition(":")
        if name == image["name"]:
            container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag)}"
