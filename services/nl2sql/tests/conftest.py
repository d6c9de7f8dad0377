"""nl2sql test fixtures: a fake OpenAI-compatible server and settings that point at it."""

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from tally.infra.settings import CommonSettings
from tally.nl2sql.config import Nl2sqlSettings
from tally.testing.llm import FakeLlm

MODEL = "fake-model"


@pytest.fixture(scope="module")
async def fake_llm() -> AsyncIterator[FakeLlm]:
    """A fake chat-completions server for the module; each test starts it empty."""
    async with FakeLlm() as server:
        yield server


@pytest.fixture
def llm(fake_llm: FakeLlm) -> FakeLlm:
    """The module's fake server with no reply queued and no request recorded."""
    fake_llm.reset()
    return fake_llm


SettingsFactory = Callable[..., Nl2sqlSettings]


@pytest.fixture(scope="module")
def llm_settings(settings: CommonSettings, fake_llm: FakeLlm) -> SettingsFactory:
    """Builds nl2sql settings on this run's servers with the LLM at the fake server (short
    timeouts, though long enough for a first request on a loaded machine; a breaker that opens
    after 2 failures); keyword arguments override fields."""

    def build(**overrides: Any) -> Nl2sqlSettings:
        fields: dict[str, Any] = {
            **settings.model_dump(),
            "llm_base_url": fake_llm.base_url,
            "llm_api_key": fake_llm.api_key,
            "llm_model": MODEL,
            "llm_timeout_s": 1.5,
            "llm_deadline_s": 2.4,
            "llm_breaker_failures": 2,
            "llm_breaker_reset_s": 60.0,
        }
        return Nl2sqlSettings(**(fields | overrides))

    return build
