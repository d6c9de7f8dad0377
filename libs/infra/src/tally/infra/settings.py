"""Validated configuration, read from the environment (and `.env`) once per process.

Each service subclasses :class:`CommonSettings` with its own fields; nothing else reads
``os.environ``.
"""

import re

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/tally"


class CommonSettings(BaseSettings):
    """Settings every Tally process shares.

    ``subject_prefix`` namespaces every NATS subject and JetStream stream, so two stacks (or
    two test runs) can share one NATS server without seeing each other's messages.
    ``answer_cache_ttl_s`` is how long a cached answer lives (seconds); it is the answers
    bucket's max age, so it applies when the bucket is first declared.
    ``stream_replicas`` is how many servers of a NATS cluster keep each JetStream stream and
    the answers bucket (``num_replicas``; 1 on a single server, 3 on a three-node cluster,
    see docs/scaling.md); like the TTL it applies when a stream is first declared.
    ``nats_user`` / ``nats_password`` (NATS_USER, NATS_PASSWORD) are this process's NATS user,
    when the server requires one (docs/security.md, "The bus"); both or neither.
    ``nats_url`` may name several servers of one cluster, comma-separated
    ("nats://a:4222,nats://b:4222"); a client connects to whichever answers
    (:meth:`nats_servers`).
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    nats_url: str = DEFAULT_NATS_URL
    nats_user: str | None = Field(default=None, min_length=1)
    nats_password: SecretStr | None = None
    database_url: str = DEFAULT_DATABASE_URL
    subject_prefix: str = Field(default="tally", pattern=r"^[a-z][a-z0-9_]{0,31}$")
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 0
    log_level: str = "INFO"
    log_json: bool = False
    otel_exporter_otlp_endpoint: str | None = None
    otel_exporter_otlp_traces_endpoint: str | None = None
    answer_cache_ttl_s: float = Field(default=3600.0, gt=0)
    stream_replicas: int = Field(default=1, ge=1, le=5)

    @model_validator(mode="after")
    def _user_with_password(self) -> "CommonSettings":
        if (self.nats_user is None) != (self.nats_password is None):
            raise ValueError("set NATS_USER and NATS_PASSWORD together, or neither")
        if self.nats_user is not None and _CREDENTIALS.search(self.nats_url):
            raise ValueError("NATS_URL carries credentials and NATS_USER is set: keep one")
        return self

    def nats_servers(self) -> list[str]:
        """``nats_url``'s servers, in order, for ``nats.connect`` and ``NatsBroker``
        (:func:`nats_servers`)."""
        return nats_servers(self.nats_url)

    def nats_auth(self) -> dict[str, str]:
        """Keyword arguments for ``nats.connect``: ``user`` and ``password`` when set, else
        none (a server without authorization)."""
        if self.nats_user is None or self.nats_password is None:
            return {}
        return {"user": self.nats_user, "password": self.nats_password.get_secret_value()}


def nats_servers(url: str) -> list[str]:
    """The servers of a NATS_URL that may list several, comma-separated, in order: nats-py
    takes one URL string as one server, so "nats://a:4222,nats://b:4222" must be split.

    Raises ValueError when the list names no server.
    """
    servers = [part.strip() for part in url.split(",") if part.strip()]
    if not servers:
        raise ValueError("NATS_URL names no server")
    return servers


def to_asyncpg_url(url: str | URL) -> URL:
    """Return ``url`` as an SQLAlchemy URL using the ``postgresql+asyncpg`` driver."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.set(drivername="postgresql+asyncpg")


def login_as(url: str | URL, role: str) -> URL:
    """``url`` (on asyncpg) with its user replaced by ``role`` and no password: a role the
    migrations create logs in without one (trust or peer authentication), and the owner's
    password must not go with another user's login. (``URL.set(password=None)`` would keep
    it: ``set`` leaves a field given as None unchanged.)"""
    parsed = make_url(url) if isinstance(url, str) else url
    return to_asyncpg_url(parsed._replace(username=role, password=None))


_CREDENTIALS = re.compile(r"://(?:([^:/@,\s]*):)?[^/,\s]*@")
"""``scheme://user:password@`` or ``scheme://token@`` (NATS's token form)."""


def _hide(match: re.Match[str]) -> str:
    user = match.group(1)
    return f"://{user}:***@" if user is not None else "://***@"


def redact(url: str | URL) -> str:
    """Render a database or NATS URL with its password hidden (``***``), fit for logs. NATS
    URLs (``nats://``, ``tls://``, ``ws://``, ``wss://``, comma-separated servers) hide a
    token given as the user too."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    if url.split("://", 1)[0].lower() in {"nats", "tls", "ws", "wss"}:
        return _CREDENTIALS.sub(_hide, url)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return _CREDENTIALS.sub(_hide, url)
