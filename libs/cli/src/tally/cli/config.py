"""Settings of the ``tally`` command, and where a running stack is found."""

import json
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from tally.cli.bus import read_login
from tally.cli.errors import StackNotRunningError
from tally.contracts.access import Identity
from tally.infra.settings import DEFAULT_DATABASE_URL, CommonSettings


class CliSettings(BaseSettings):
    """Unlike a service's settings, NATS_URL and DATABASE_URL may be unset here: ``tally up``
    then starts embedded servers, and the other commands use what ``tally up`` started.
    NATS_USER / NATS_PASSWORD are the user for a NATS_URL that requires one; an embedded
    NATS makes its own users (:mod:`tally.cli.bus`)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    nats_url: str | None = None
    nats_user: str | None = Field(default=None, min_length=1)
    nats_password: SecretStr | None = None
    database_url: str | None = None
    subject_prefix: str = "tally"
    tally_home: Path = Path(".tally")
    bot_token: SecretStr | None = None
    otel_exporter_otlp_endpoint: str | None = None
    otel_exporter_otlp_traces_endpoint: str | None = None
    dashboard_port: int = 8000

    @property
    def state_file(self) -> Path:
        return self.tally_home / "stack.json"


class StackState(BaseModel):
    """What ``tally up`` started, written to ``<TALLY_HOME>/stack.json`` while it runs."""

    nats_url: str
    database_url: str
    subject_prefix: str
    pid: int
    services: dict[str, str] = {}
    nats_logins: str = ""
    """The directory of the embedded NATS's logins (:mod:`tally.cli.bus`); empty: none."""

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.model_dump_json(indent=2))

    @classmethod
    def load(cls, path: Path) -> "StackState | None":
        try:
            return cls.model_validate(json.loads(path.read_text()))
        except (OSError, ValueError):
            return None


def resolve(settings: CliSettings, identity: Identity = "admin") -> CommonSettings:
    """Common settings for a client command: the environment first, else ``tally up``'s state.
    The NATS user is NATS_USER's, else ``identity``'s login of ``tally up``'s embedded NATS
    (``cli`` for asking, ``admin`` for the operator's commands), else none.

    Raises StackNotRunningError when neither names a NATS server.
    """
    state = StackState.load(settings.state_file)
    nats_url = settings.nats_url or (state.nats_url if state else None)
    if not nats_url:  # unset, or `tally up` is still starting
        raise StackNotRunningError(
            "No running Tally found: start one with `make run` (or `tally up`) in another "
            "terminal, or set NATS_URL to a running stack."
        )
    database_url = settings.database_url or (state.database_url if state else None)
    prefix = state.subject_prefix if state and not settings.nats_url else settings.subject_prefix
    user, password = settings.nats_user, settings.nats_password
    if user is None and state and state.nats_logins and not settings.nats_url:
        login = read_login(Path(state.nats_logins), identity)
        user, password = (login.user, login.password) if login else (None, None)
    return CommonSettings(
        nats_url=nats_url,
        nats_user=user,
        nats_password=password,
        subject_prefix=prefix,
        database_url=database_url or DEFAULT_DATABASE_URL,
    )
