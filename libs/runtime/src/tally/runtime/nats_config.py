"""nats-server configuration for Tally's bus: one user per identity, each with its permissions.

Pure functions from :mod:`tally.contracts.access`'s table to the text nats-server reads
(``nats-server -c <file>``). A password is written literally (``tally up``: the file is
mode 0600 under TALLY_HOME) or as a variable (:class:`EnvVar`, ``$NAME``) that nats-server
resolves from its environment (deploy/nats/auth.conf, with the passwords in secrets).
"""

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from tally.contracts.access import Identity, Permissions

_SAFE_PASSWORD = re.compile(r"^[!#-\[\]-~]{16,}$")
"""Printable ASCII without a space, ``"`` or ``\\``, 16 characters or more."""
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")


@dataclass(frozen=True, slots=True)
class EnvVar:
    """A password nats-server reads from its environment variable ``name``."""

    name: str

    def __post_init__(self) -> None:
        if not _ENV_NAME.match(self.name):
            raise ValueError(f"not an environment variable name: {self.name!r}")


Password = str | EnvVar


def password_variable(user: str) -> EnvVar:
    """``NATS_PASSWORD_<USER>``: where deployments keep each identity's password."""
    return EnvVar(f"NATS_PASSWORD_{user.upper()}")


def _password(value: Password) -> str:
    if isinstance(value, EnvVar):
        return f"${value.name}"
    if not _SAFE_PASSWORD.match(value):
        raise ValueError('a NATS password is 16+ printable ASCII characters, no space, " or \\')
    return json.dumps(value)


def _allow(name: str, values: Iterable[str]) -> list[str]:
    """``name: { allow: [...] }``, a subject a line; an empty allow-list would allow
    everything, so an identity granted nothing is denied everything."""
    subjects = [json.dumps(value) for value in values]
    if not subjects:
        return [f'        {name}: {{ deny: [">"] }}']
    return [
        f"        {name}: {{ allow: [",
        *(f"          {subject}," for subject in subjects),
        "        ] }",
    ]


def _user(identity: str, password: Password, permissions: Permissions) -> list[str]:
    return [
        "    {",
        f"      user: {json.dumps(identity)}",
        f"      password: {_password(password)}",
        "      permissions: {",
        *_allow("publish", permissions.publish),
        *_allow("subscribe", permissions.subscribe),
        *(["        allow_responses: true"] if permissions.allow_responses else []),
        "      }",
        "    }",
    ]


def authorization(
    table: Mapping[Identity, Permissions], passwords: Mapping[Identity, Password]
) -> str:
    """The ``authorization`` block: one user per identity of ``table`` (in its order), named
    after it, with its password and permissions. A client without a user is refused.

    Raises KeyError when an identity has no password, ValueError for a literal password
    that is not 16+ printable ASCII characters without space, ``"`` or ``\\``.
    """
    lines = [
        "# One user per Tally identity, from tally.contracts.access (`tally nats-auth` prints it).",
        "authorization {",
        "  users: [",
    ]
    for identity, granted in table.items():
        lines += _user(identity, passwords[identity], granted)
    return "\n".join([*lines, "  ]", "}", ""])


def server_config(
    table: Mapping[Identity, Permissions],
    passwords: Mapping[Identity, Password],
    *,
    host: str,
    port: int,
    store_dir: Path,
    log_file: Path | None = None,
) -> str:
    """A whole nats-server configuration: listen on ``host``:``port``, JetStream storing
    under ``store_dir``, the log in ``log_file`` (stderr when None), and
    :func:`authorization`."""
    lines = [
        "# Written by Tally (tally.runtime.nats_config): regenerated on every start.",
        f"host: {json.dumps(host)}",
        f"port: {port}",
        f"jetstream {{ store_dir: {json.dumps(str(store_dir))} }}",
        *([f"log_file: {json.dumps(str(log_file))}"] if log_file else []),
        "",
    ]
    return "\n".join(lines) + authorization(table, passwords)
