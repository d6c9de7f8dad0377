"""What the deployments give each Tally process: its command and its environment.

Read from docker-compose.yml (interpolated with a ``.env`` made from deploy/.env.example, as
`docker compose` does) and from the rendered Kustomize base (the ConfigMap, the Secret template
and each container's ``env``), on top of what the image sets (deploy/Dockerfile's ``ENV`` and
``CMD``). :func:`localize` then maps the deployment's host names and ports to local servers,
so the test can run each process as the deployment would.
"""

import json
import re
import secrets
import shlex
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml
from sqlalchemy.engine import URL, make_url

from tests.deploy.kustomize import build, containers
from tests.deploy.layout import DEPLOY, ROOT, SETTINGS, health_port

SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"
IMAGE_WORKDIR = "/app"
_VARIABLE = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
)


class MissingVariable(Exception):
    """A ``${NAME:?message}`` the ``.env`` leaves empty (compose refuses to start)."""


@dataclass(frozen=True)
class Process:
    """One Tally process of a deployment: ``service`` names its settings (layout.SETTINGS);
    ``health_port`` is where its /health/ready answers (None: a one-off that exits)."""

    name: str
    service: str
    command: list[str]
    environment: dict[str, str]
    health_port: int | None


def interpolate(value: Any, variables: Mapping[str, str]) -> Any:
    """``value`` (a compose document or part of it) with ``${...}`` replaced as compose does:
    ``${X}``, ``${X:-default}``, ``${X-default}``, ``${X:?error}``, ``${X?error}``, ``$$``.
    Raises MissingVariable naming the variable when a required one is unset or empty."""
    if isinstance(value, dict):
        return {key: interpolate(item, variables) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, variables) for item in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        found = variables.get(name)
        if op in {":?", "?"} and (found is None or (op == ":?" and not found)):
            raise MissingVariable(f"{name}: {arg}")
        if (op == ":-" and not found) or (op == "-" and found is None):
            return str(arg)
        return found or ""

    return _VARIABLE.sub(one, value)


def env_file(example: Path, overrides: Mapping[str, str]) -> dict[str, str]:
    """The ``.env`` an operator makes from ``example``: every ``NAME=value`` line, each empty
    value filled with a fresh random secret (as the example says: a letter, then
    ``secrets.token_urlsafe``) unless ``overrides`` gives it."""
    variables: dict[str, str] = {}
    for line in example.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            variables[name.strip()] = value or "t" + secrets.token_urlsafe(24)
    return variables | dict(overrides)


def _image_cmd(instructions: list[tuple[str, str]]) -> list[str]:
    [cmd] = [arguments for name, arguments in instructions if name == "CMD"]
    parsed: list[str] = json.loads(cmd)
    return parsed


def _runtime_stage() -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", (DEPLOY / "Dockerfile").read_text())
    instructions = [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
        for line in (raw.strip() for raw in text.splitlines())
        if line and not line.startswith("#")
    ]
    starts = [i for i, (name, _) in enumerate(instructions) if name == "FROM"]
    return instructions[starts[-1] :]


def image(service: str, build_args: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """The image's default command and environment for ``SERVICE=service`` (deploy/Dockerfile's
    runtime stage), with /app/.venv/bin standing for this interpreter's bin directory."""
    stage = _runtime_stage()
    args = {"SERVICE": service} | dict(build_args)
    for name, arguments in stage:
        key, _, default = arguments.partition("=")
        if name == "ARG" and key not in args:
            args[key] = default
    venv = str(Path(sys.executable).parent)
    environment: dict[str, str] = {"PATH": SYSTEM_PATH}
    for name, arguments in stage:
        if name == "ENV":
            for pair in shlex.split(arguments):
                key, _, value = pair.partition("=")
                value = value.replace("${PATH}", SYSTEM_PATH).replace("/app/.venv/bin", venv)
                environment[key] = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], value)
    return _image_cmd(stage), environment


def _command(command: Any, default: list[str]) -> list[str]:
    if command is None:
        return default
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


def compose_processes(variables: Mapping[str, str], profiles: set[str]) -> list[Process]:
    """Every Tally process of docker-compose.yml (with ``profiles`` on), in file order: the
    image's environment under the service's own, its command or the image's."""
    document = interpolate(yaml.safe_load((ROOT / "docker-compose.yml").read_text()), variables)
    processes = []
    for name, spec in document["services"].items():
        image_name = spec.get("image", "")
        if not image_name.startswith("tally/"):
            continue
        if set(spec.get("profiles", [])) - profiles:
            continue
        service = image_name.removeprefix("tally/").partition(":")[0]
        build_args = {k: str(v) for k, v in spec.get("build", {}).get("args", {}).items()}
        default_command, environment = image(service, build_args)
        environment |= {k: str(v) for k, v in (spec.get("environment") or {}).items()}
        one_off = spec.get("restart") == "no"
        processes.append(
            Process(
                name=name,
                service=service,
                command=_command(spec.get("command"), default_command),
                environment=environment,
                health_port=None if one_off else health_port(service),
            )
        )
    return processes


def secret_values(fill: Callable[[str], str]) -> dict[str, str]:
    """The Secret template's values, each REPLACE_ME replaced by ``fill(key)``."""
    template = yaml.safe_load((DEPLOY / "k8s" / "base" / "secret.example.yaml").read_text())
    values: dict[str, str] = template["stringData"]
    return {key: value.replace("REPLACE_ME", fill(key)) for key, value in values.items()}


def kubernetes_processes(
    fill: Callable[[str], str], config: Mapping[str, str] | None = None
) -> list[Process]:
    """Every Tally container of the rendered Kustomize base (Jobs and Deployments), with the
    ConfigMap under ``envFrom`` and the Secret template's values, each REPLACE_ME replaced
    by ``fill(key)``. ``config`` changes ConfigMap values as an overlay would; raises KeyError
    for a key the base's ConfigMap does not have."""
    resources = build(DEPLOY / "k8s" / "base")
    maps = {r["metadata"]["name"]: r["data"] for r in resources if r["kind"] == "ConfigMap"}
    environments = {  # the ConfigMaps Tally's containers take their environment from
        source["configMapRef"]["name"]
        for resource in resources
        for container in containers(resource)
        if container["image"].startswith("tally/")
        for source in container.get("envFrom", [])
    }
    for data in (maps[name] for name in environments):
        if unknown := set(config or {}) - set(data):
            raise KeyError(f"the ConfigMap has no {sorted(unknown)}")
        data.update(config or {})
    secret = secret_values(fill)
    processes = []
    for resource in resources:
        for container in containers(resource):
            if not container["image"].startswith("tally/"):
                continue  # a part that is not Tally's (Alertmanager): tests/test_monitoring.py
            service = container["image"].removeprefix("tally/").partition(":")[0]
            default_command, environment = image(service, {})
            for source in container.get("envFrom", []):
                environment |= maps[source["configMapRef"]["name"]]
            for entry in container.get("env", []):
                if "value" in entry:
                    environment[entry["name"]] = str(entry["value"])
                else:
                    environment[entry["name"]] = secret[entry["valueFrom"]["secretKeyRef"]["key"]]
            command = container.get("command", default_command) + container.get("args", [])
            one_off = resource["kind"] == "Job"
            processes.append(
                Process(
                    name=resource["metadata"]["name"],
                    service=service,
                    command=command,
                    environment=environment,
                    health_port=None if one_off else health_port(service),
                )
            )
    return processes


@dataclass(frozen=True)
class Local:
    """Where the deployment's servers are here: ``hosts`` maps a host name to
    ``host:port``; PostgreSQL URLs on ``database_host`` go to ``server`` (its host, port and
    socket), name ``database`` and log the deployment's ``owner`` in as the server's user;
    ``workdir`` stands for the image's /app."""

    hosts: Mapping[str, str]
    database_host: str
    server: URL
    database: str
    owner: str
    workdir: Path


def _local_url(value: str, local: Local) -> str:
    parts = urlsplit(value)
    if parts.scheme.startswith("postgres") and parts.hostname == local.database_host:
        url = make_url(value)
        owner = url.username == local.owner
        return url.set(
            host=local.server.host,
            port=local.server.port,
            query=local.server.query,
            username=local.server.username if owner else url.username,
            database=local.database,
        ).render_as_string(hide_password=False)
    if not parts.hostname or parts.hostname not in local.hosts:
        return value
    netloc = parts.netloc.rsplit("@", 1)
    netloc[-1] = local.hosts[parts.hostname]
    return urlunsplit(parts._replace(netloc="@".join(netloc)))


def localize(process: Process, local: Local, ports: Callable[[], int]) -> Process:
    """``process`` with every URL on a deployment host moved to the local server, every
    ``*_PORT`` variable on a fresh port from ``ports()`` (its health port with it) and the
    image's /app paths under ``local.workdir``."""
    environment: dict[str, str] = {}
    moved: dict[int, int] = {}
    for key, value in process.environment.items():
        if key.endswith("_PORT") and value.isdigit():
            new = moved.setdefault(int(value), ports())
            environment[key] = str(new)
        else:
            environment[key] = _local_url(value, local)
    command = [
        str(local.workdir) + arg.removeprefix(IMAGE_WORKDIR)
        if arg.startswith(IMAGE_WORKDIR + "/")
        else arg
        for arg in process.command
    ]
    port = process.health_port
    return replace(
        process,
        command=command,
        environment=environment,
        health_port=moved.get(port, port) if port is not None else None,
    )


REQUIRED: dict[str, frozenset[str]] = {
    "gateway": frozenset({"bot_token"}),
    "nl2sql": frozenset(),
    "executor": frozenset({"executor_database_url", "ops_database_url", "llm_database_url"}),
    "ingest": frozenset({"database_url"}),
    "alerts": frozenset({"database_url", "alerts_reader_database_url"}),
    "dashboard": frozenset({"dashboard_database_url", "admin_api_token"}),
    "cli": frozenset(),
}
"""The settings each service reads that have no default fit for a deployment, beyond the bus
(``nats_url``, ``nats_user``, ``nats_password``: every service). ``database_url`` and
``nats_url`` default to 127.0.0.1; each ``*_database_url`` login defaults to DATABASE_URL with
the role as user and no password, which a server that checks passwords refuses;
``bot_token`` has none (the gateway stops); the dashboard, listening beyond localhost, refuses
to start without ``admin_api_token``. nl2sql and the gateway use no database, the
executor's DATABASE_URL is only the fallback of its three logins. What the CLI needs depends
on the command (migrate: the database, streams: the bus): checked by running them."""
BUS = frozenset({"nats_url", "nats_user", "nats_password"})


def unset_without_default(process: Process) -> list[str]:
    """The variables ``process`` reads without a safe default that its environment leaves
    unset or empty (upper-case, as the environment names them). Raises KeyError when
    REQUIRED names a field the service's settings do not have."""
    fields = {field for cls in SETTINGS[process.service] for field in cls.model_fields}
    needed = REQUIRED[process.service] | (BUS if process.service != "cli" else frozenset())
    if unknown := needed - fields:
        raise KeyError(f"{process.service} has no settings {sorted(unknown)}")
    return sorted(
        name.upper() for name in needed if not process.environment.get(name.upper(), "").strip()
    )


def logins_without_password(process: Process) -> list[str]:
    """The variables of ``process`` holding a PostgreSQL URL without a password."""
    return sorted(
        key
        for key, value in process.environment.items()
        if value.startswith("postgres") and not make_url(value).password
    )
