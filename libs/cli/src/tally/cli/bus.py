"""The bus's users for an embedded NATS: a password per identity, written where only we read.

``tally up`` makes new passwords on every start and writes, under ``<TALLY_HOME>/nats/auth``
(a directory of mode 0700), one file per identity (``<identity>.json``, mode 0600) and the
nats-server configuration (``nats.conf``, mode 0600) that requires them. Each service process
gets its own user in its environment; ``tally ask`` reads ``cli.json``, the other commands
``admin.json`` (see :func:`tally.cli.config.resolve`).
"""

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, SecretStr, ValidationError

from tally.contracts.access import IDENTITIES, Identity, permissions
from tally.contracts.subjects import Subjects
from tally.runtime.nats_config import server_config

PASSWORD_BYTES = 32
"""Random bytes of each password (43 URL-safe characters)."""


class Login(BaseModel):
    """One identity's NATS user and password, as written to ``<identity>.json``."""

    user: str
    password: SecretStr

    def environment(self) -> dict[str, str]:
        """``NATS_USER`` and ``NATS_PASSWORD``, for a child process."""
        return {"NATS_USER": self.user, "NATS_PASSWORD": self.password.get_secret_value()}

    def revealed(self) -> str:
        """The JSON of the file (``model_dump_json`` would hide the password)."""
        return json.dumps({"user": self.user, "password": self.password.get_secret_value()})


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable and writable by its owner only (0600)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an older file keeps its mode through O_CREAT
    with os.fdopen(descriptor, "w") as file:
        file.write(text)


@dataclass(frozen=True)
class BusUsers:
    """A fresh password for every identity, kept in ``directory``."""

    directory: Path
    logins: dict[str, Login]
    """By identity (:data:`tally.contracts.access.IDENTITIES`)."""

    @classmethod
    def generate(cls, directory: Path) -> "BusUsers":
        """New random passwords (``secrets.token_urlsafe``) for every identity."""
        return cls(
            directory,
            {
                identity: Login(user=identity, password=secrets.token_urlsafe(PASSWORD_BYTES))
                for identity in IDENTITIES
            },
        )

    @property
    def config_file(self) -> Path:
        return self.directory / "nats.conf"

    def write(self, subjects: Subjects, *, port: int, store_dir: Path, log_file: Path) -> Path:
        """Write each login and the server configuration for ``subjects``' deployment
        (listening on 127.0.0.1:``port``); return the configuration's path."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o700)
        for identity, login in self.logins.items():
            _write_private(self.directory / f"{identity}.json", login.revealed())
        passwords = {i: self.logins[i].password.get_secret_value() for i in IDENTITIES}
        config = server_config(
            permissions(subjects),
            passwords,
            host="127.0.0.1",
            port=port,
            store_dir=store_dir,
            log_file=log_file,
        )
        _write_private(self.config_file, config)
        return self.config_file


def read_login(directory: Path, identity: Identity) -> Login | None:
    """``identity``'s login as ``tally up`` wrote it in ``directory``; None when there is none."""
    try:
        return Login.model_validate_json((directory / f"{identity}.json").read_text())
    except (OSError, ValidationError):
        return None
