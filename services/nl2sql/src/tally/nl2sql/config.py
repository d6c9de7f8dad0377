"""nl2sql settings: which engine reads questions, and the optional LLM behind it."""

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from tally.infra.errors import ConfigurationError
from tally.infra.settings import CommonSettings

Engine = Literal["builtin", "llm", "auto"]


class Nl2sqlSettings(CommonSettings):
    """The shared settings plus the language engine.

    ``nl_engine``: ``builtin`` (the offline parser only), ``llm`` (every question to the LLM)
    or ``auto`` (the parser first; the LLM only for questions the parser refuses, and only
    when an LLM is configured). An LLM is configured when ``LLM_BASE_URL`` and ``LLM_MODEL``
    are set (any OpenAI-compatible chat-completions endpoint; the key may be empty for
    local servers). ``llm_timeout_s`` bounds one HTTP attempt and ``llm_deadline_s``
    everything one question may wait on the model (retries and a repair included).
    The breaker opens after ``llm_breaker_failures`` consecutive failed questions and lets
    one trial through after ``llm_breaker_reset_s``. ``llm_concurrency`` questions may be
    in flight at once when the LLM is on (so one slow model call holds up no other question).
    Raises ConfigurationError for ``NL_ENGINE=llm`` without an LLM configured.
    """

    nl_engine: Engine = "auto"
    llm_base_url: str | None = None
    llm_api_key: SecretStr | None = None
    llm_model: str | None = None
    llm_response_format: Literal["json_schema", "json_object"] = "json_schema"
    llm_timeout_s: float = Field(default=10.0, gt=0)
    llm_deadline_s: float = Field(default=15.0, gt=0)
    llm_retries: int = Field(default=2, ge=0, le=5)
    llm_breaker_failures: int = Field(default=3, ge=1)
    llm_breaker_reset_s: float = Field(default=30.0, gt=0)
    llm_concurrency: int = Field(default=16, ge=1)

    @property
    def llm_configured(self) -> bool:
        """True when a base URL and a model name are set."""
        return bool(self.llm_base_url and self.llm_model)

    @property
    def llm_enabled(self) -> bool:
        """True when questions may reach the LLM (configured, and the engine is not builtin)."""
        return self.llm_configured and self.nl_engine != "builtin"

    @model_validator(mode="after")
    def _llm_needs_endpoint(self) -> "Nl2sqlSettings":
        if self.nl_engine == "llm" and not self.llm_configured:
            raise ConfigurationError("NL_ENGINE=llm needs LLM_BASE_URL and LLM_MODEL")
        return self
