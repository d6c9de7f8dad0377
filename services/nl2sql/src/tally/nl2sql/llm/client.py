"""One chat completion from any OpenAI-compatible endpoint, with timeouts and retries.

Retries use tenacity and only follow failures that may pass: a timeout, a 5xx status or no
connection; ``retries`` more attempts, waiting 0.5 s then 1 s (exponential). A 4xx (bad key,
unknown model, rate limit) is not retried. Every failure leaves as :class:`LlmUnavailable`.
The API key goes to the SDK and nowhere else: it is never logged.
"""

from dataclasses import dataclass
from time import perf_counter
from typing import Any

import openai
import structlog
from openai import AsyncOpenAI
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from tally.infra.errors import TallyError
from tally.infra.telemetry import trace_exemplar
from tally.nl2sql.config import Nl2sqlSettings
from tally.nl2sql.llm.metrics import ErrorKind, LlmMetrics
from tally.nl2sql.llm.prompts import REPLY_SCHEMA, SCHEMA_NAME, Message

BACKOFF_S = 0.5
NO_KEY = "none"
"""Sent as the key to servers that need none (Ollama, vLLM, llama.cpp); the SDK wants one."""

log = structlog.get_logger(__name__)


class LlmUnavailable(TallyError):
    """The model gave no answer: it timed out, answered an HTTP error, or could not be reached."""

    def __init__(self, kind: ErrorKind, detail: str) -> None:
        super().__init__(f"LLM {kind}: {detail}")
        self.kind: ErrorKind = kind


@dataclass(frozen=True, slots=True)
class Completion:
    """The text of the model's message and the tokens the provider counted for it."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0


def _transient(error: BaseException) -> bool:
    """Timeouts, lost connections and 5xx pass; 4xx and anything else do not."""
    if isinstance(error, openai.APIStatusError):
        return error.status_code >= 500
    return isinstance(error, openai.APIConnectionError)  # APITimeoutError is one


def _unavailable(error: Exception) -> LlmUnavailable:
    if isinstance(error, openai.APITimeoutError):
        return LlmUnavailable("timeout", "no answer in time")
    if isinstance(error, openai.APIStatusError):
        return LlmUnavailable("http", f"status {error.status_code}")
    return LlmUnavailable("http", type(error).__name__)


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning("llm call failed, retrying", attempt=state.attempt_number, error=repr(error))


class ChatClient:
    """Chat completions from ``settings.llm_base_url`` with ``settings.llm_model``."""

    def __init__(self, settings: Nl2sqlSettings, metrics: LlmMetrics) -> None:
        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else ""
        self._sdk = AsyncOpenAI(
            base_url=settings.llm_base_url,
            api_key=key or NO_KEY,
            timeout=settings.llm_timeout_s,
            max_retries=0,  # tenacity retries, with our rules
        )
        self._model = settings.llm_model or ""
        self._format = _response_format(settings.llm_response_format)
        self._attempts = settings.llm_retries + 1
        self._metrics = metrics

    async def complete(self, messages: list[Message]) -> Completion:
        """The model's reply to ``messages``, asked for as JSON (our reply schema).

        Raises LlmUnavailable when every attempt failed or the first failure was final.
        """
        started = perf_counter()
        try:
            return await self._with_retries(messages)
        except openai.OpenAIError as error:
            raise _unavailable(error) from error
        finally:
            self._metrics.seconds.observe(perf_counter() - started, trace_exemplar())

    async def close(self) -> None:
        """Close the connection pool."""
        await self._sdk.close()

    async def _with_retries(self, messages: list[Message]) -> Completion:
        retrying = AsyncRetrying(
            retry=retry_if_exception(_transient),
            stop=stop_after_attempt(self._attempts),
            wait=wait_exponential(multiplier=BACKOFF_S, min=BACKOFF_S),
            before_sleep=_log_retry,
            reraise=True,
        )
        return await retrying(self._once, messages)

    async def _once(self, messages: list[Message]) -> Completion:
        response = await self._sdk.chat.completions.create(
            model=self._model,
            messages=messages,  # type: ignore[arg-type]
            response_format=self._format,
            temperature=0,
        )
        usage = response.usage
        text = response.choices[0].message.content if response.choices else None
        completion = Completion(
            text=text or "",
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
        )
        self._metrics.used(
            prompt_tokens=completion.prompt_tokens, completion_tokens=completion.completion_tokens
        )
        return completion


def _response_format(kind: str) -> Any:
    """The structured-output request: our JSON schema, or plain JSON mode for providers
    without json_schema support (the prompt then carries the rules alone)."""
    if kind == "json_object":
        return {"type": "json_object"}
    schema = {"name": SCHEMA_NAME, "schema": REPLY_SCHEMA, "strict": False}
    return {"type": "json_schema", "json_schema": schema}
