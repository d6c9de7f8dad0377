"""Dashboard settings: where it listens, the admin token, the link secret, the read-only
database login."""

from pydantic import Field, SecretStr, field_validator, model_validator
from sqlalchemy.engine import URL

from tally.contracts.dashboard_link import MIN_SECRET_LENGTH
from tally.infra.db.models import READER_ROLE
from tally.infra.settings import CommonSettings, login_as, to_asyncpg_url

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost"})
"""Hosts the dashboard may listen on without an admin token."""
MIN_TOKEN_LENGTH = 16


class DashboardSettings(CommonSettings):
    """``dashboard_host`` / ``dashboard_port`` (env ``DASHBOARD_HOST``, ``DASHBOARD_PORT``)
    are where the API and pages listen; /metrics and /health are served there too.

    ``admin_api_token`` (env ``ADMIN_API_TOKEN``, at least 16 characters) must be sent as
    ``X-Admin-Token`` with every API request. Without it the dashboard only starts on
    127.0.0.1 or localhost, and answers API requests from the loopback address only: the
    settings refuse any other host (a ValidationError at start).

    ``dashboard_link_secret`` (env ``DASHBOARD_LINK_SECRET``, at least 32 characters) checks
    the signed links the gateway sends chat admins for ``/dashboard``
    (:mod:`tally.contracts.dashboard_link`); the gateway must have the same value. Unset,
    signed links are refused with a sentence saying so (there is no default secret).

    ``dashboard_database_url`` is the read-only login; when unset it is DATABASE_URL with the
    user replaced by the ``tally_reader`` role (no password), as for the executor.
    ``statement_timeout_ms`` bounds every statement.
    """

    dashboard_host: str = "127.0.0.1"
    dashboard_port: int = Field(default=8000, ge=0, le=65535)
    admin_api_token: SecretStr | None = Field(default=None, min_length=MIN_TOKEN_LENGTH)
    dashboard_link_secret: SecretStr | None = Field(default=None, min_length=MIN_SECRET_LENGTH)
    dashboard_database_url: str | None = None
    statement_timeout_ms: int = Field(default=5000, ge=10)
    pool_size: int = Field(default=5, ge=1)

    @field_validator("admin_api_token", "dashboard_link_secret", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _token_or_loopback(self) -> "DashboardSettings":
        if self.admin_api_token is None and self.dashboard_host not in LOCAL_HOSTS:
            raise ValueError(
                f"ADMIN_API_TOKEN is not set, so the dashboard listens only on 127.0.0.1 or "
                f"localhost, not {self.dashboard_host!r}: set a token of at least "
                f"{MIN_TOKEN_LENGTH} characters, or DASHBOARD_HOST=127.0.0.1."
            )
        return self

    @property
    def reader_url(self) -> URL:
        if self.dashboard_database_url:
            return to_asyncpg_url(self.dashboard_database_url)
        return login_as(self.database_url, READER_ROLE)
