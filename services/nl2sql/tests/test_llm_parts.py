"""The LLM engine's pure parts: the circuit breaker (on a fake clock), the settings, the
reply schema and the prompt."""

from datetime import date

import pytest
from pydantic import ValidationError

from tally.infra.errors import ConfigurationError
from tally.nl2sql.config import Nl2sqlSettings
from tally.nl2sql.llm.breaker import CircuitBreaker
from tally.nl2sql.llm.prompts import _EXAMPLES, LlmReply, messages
from tally.testing.llm import plan_reply, refusal_reply, sql_reply


class Clock:
    """A monotonic clock the test moves by hand (seconds)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock) -> CircuitBreaker:
    return CircuitBreaker(failures=3, reset_s=30.0, clock=clock)


def test_breaker_opens_after_consecutive_failures() -> None:
    """Three failures in a row open the breaker; a success in between starts the count over."""
    clock = Clock()
    subject = breaker(clock)
    for outcome in (subject.failed, subject.failed, subject.succeeded, subject.failed):
        outcome()
    subject.failed()
    assert subject.state == "closed" and subject.allow()
    subject.failed()
    assert subject.state == "open"
    assert not subject.allow()


def test_breaker_half_open_lets_one_trial_through() -> None:
    """After ``reset_s`` one caller gets through; others are refused until it reports."""
    clock = Clock()
    subject = breaker(clock)
    for _ in range(3):
        subject.failed()
    clock.now = 29.9
    assert not subject.allow()
    clock.now = 30.0
    assert subject.state == "half_open"
    assert subject.allow()
    assert not subject.allow()
    subject.succeeded()
    assert subject.state == "closed" and subject.allow()


def test_breaker_failed_trial_opens_again() -> None:
    """A failed half-open trial opens the breaker for another ``reset_s``."""
    clock = Clock()
    subject = breaker(clock)
    for _ in range(3):
        subject.failed()
    clock.now = 31.0
    assert subject.allow()
    subject.failed()
    assert subject.state == "open"
    clock.now = 60.9
    assert not subject.allow()
    clock.now = 61.0
    assert subject.allow()


def test_llm_engine_needs_an_endpoint() -> None:
    """NL_ENGINE=llm without LLM_BASE_URL/LLM_MODEL is a configuration error at start."""
    with pytest.raises(ConfigurationError):
        Nl2sqlSettings(nl_engine="llm")


@pytest.mark.parametrize(
    ("engine", "base_url", "enabled"),
    [("auto", None, False), ("auto", "http://x/v1", True), ("builtin", "http://x/v1", False)],
)
def test_llm_enabled(engine: str, base_url: str | None, enabled: bool) -> None:
    """The LLM is consulted only when configured and the engine is not ``builtin``."""
    settings = Nl2sqlSettings(nl_engine=engine, llm_base_url=base_url, llm_model="m")
    assert settings.llm_enabled is enabled


def test_api_key_is_secret() -> None:
    """The key reads back only through get_secret_value, never in repr or dumps."""
    settings = Nl2sqlSettings(llm_api_key="sk-very-secret")
    assert "sk-very-secret" not in repr(settings) + str(settings.model_dump())
    assert settings.llm_api_key is not None
    assert settings.llm_api_key.get_secret_value() == "sk-very-secret"


def test_fake_server_replies_fit_the_schema() -> None:
    """The fake server's reply builders and the prompt's examples are valid replies."""
    plan = {"dataset": "videos", "measure": {"aggregate": "count"}, "interpretation": ""}
    for reply in (plan_reply(plan), sql_reply("SELECT 1"), refusal_reply("no")):
        LlmReply.model_validate(reply)
    for _, answer in _EXAMPLES:
        LlmReply.model_validate(answer)


def test_reply_with_unknown_field_is_invalid() -> None:
    """Extra keys are rejected rather than ignored."""
    with pytest.raises(ValidationError):
        LlmReply.model_validate({**refusal_reply("no"), "comment": "hi"})


def test_prompt_ends_with_the_question() -> None:
    """System prompt first, worked examples as turns, the tagged question last."""
    conversation = messages("Сколько видео?", language="ru", today=date(2026, 1, 2))
    assert conversation[0]["role"] == "system"
    assert "Today is 2026-01-02 (UTC)" in conversation[0]["content"]
    assert len(conversation) == 2 + 2 * len(_EXAMPLES)
    assert conversation[-1] == {"role": "user", "content": "(ru) Сколько видео?"}
