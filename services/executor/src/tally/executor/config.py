"""Executor settings."""

from pydantic import Field, SecretStr
from sqlalchemy.engine import URL

from tally.infra.db.models import LLM_ROLE, OPS_ROLE, READER_ROLE
from tally.infra.settings import CommonSettings, login_as, to_asyncpg_url


class ExecutorSettings(CommonSettings):
    """``executor_database_url`` is the read-only login; when unset it is DATABASE_URL with the
    user replaced by the ``tally_reader`` role the migrations create (no password: trust or
    peer auth). Set it explicitly wherever PostgreSQL asks for passwords.

    ``statement_timeout_ms`` bounds every statement; ``firewall_max_rows`` and
    ``firewall_max_bytes`` bound what LLM-written SQL may return.

    ``answer_cache`` (env ``ANSWER_CACHE``, on by default) answers a plan already answered,
    over unchanged data, from the answers bucket without asking the database;
    ``answer_cache_timeout_s`` bounds each of its reads and writes, past which the question is
    answered from the database as if the cache had missed.

    ``read_database_url`` (env ``READ_DATABASE_URL``) is a read replica of DATABASE_URL (a
    PostgreSQL hot standby): when set, plans and chat reports run there, as ``tally_reader``
    (the user it names is replaced, no password: trust or peer auth; where the replica asks
    for a password, set ``executor_database_url`` to the reader's full login on it, which
    wins). The answer cache (NATS) and the operations reports (``ops_url``, on DATABASE_URL,
    where the questions log is written) are unaffected.

    ``ops_database_url`` is the login of the admins' operations reports (/analytics, /metrics,
    /health): when unset, DATABASE_URL with the user replaced by the ``tally_ops`` role
    (migration 0006), like the reader's.

    ``llm_database_url`` (env ``LLM_DATABASE_URL``, a secret: it may carry a password) is the
    login LLM-written SQL runs as: when unset, the database plans run on (the replica, when
    ``read_database_url`` is set) with the user replaced by the ``tally_llm`` role (migration
    0008: ``videos`` and ``video_snapshots`` only), no password.

    ``active_users_refresh_s`` is how often ``tally_active_users`` (DAU/WAU/MAU) is counted
    again from the questions log, as ``tally_ops`` (``tally_reader`` may not read the questions
    log, and LLM-written SQL must not either)."""

    executor_database_url: str | None = None
    read_database_url: str | None = None
    statement_timeout_ms: int = Field(default=5000, ge=10)
    pool_size: int = Field(default=10, ge=1)
    firewall_max_rows: int = Field(default=1000, ge=1)
    """LIMIT the SQL firewall puts on LLM-written SQL (a smaller LIMIT of its own is kept)."""
    firewall_max_bytes: int = Field(default=1_000_000, ge=1)
    """Characters of result text an LLM-written query may return before it is refused."""
    answer_cache: bool = True
    answer_cache_timeout_s: float = Field(default=0.25, gt=0)
    ops_database_url: str | None = None
    llm_database_url: SecretStr | None = None
    active_users_refresh_s: float = Field(default=60.0, gt=0)

    @property
    def reader_url(self) -> URL:
        if self.executor_database_url:
            return to_asyncpg_url(self.executor_database_url)
        return login_as(self.read_database_url or self.database_url, READER_ROLE)

    @property
    def llm_url(self) -> URL:
        if self.llm_database_url:
            return to_asyncpg_url(self.llm_database_url.get_secret_value())
        return login_as(self.read_database_url or self.database_url, LLM_ROLE)

    @property
    def ops_url(self) -> URL:
        if self.ops_database_url:
            return to_asyncpg_url(self.ops_database_url)
        return login_as(self.database_url, OPS_ROLE)
