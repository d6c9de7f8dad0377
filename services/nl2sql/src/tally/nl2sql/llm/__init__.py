"""The optional LLM engine: any OpenAI-compatible chat model reads the questions the built-in
parser refuses, into a query plan (first choice), SQL for the executor's firewall, or a refusal.
"""

from prometheus_client import CollectorRegistry

from tally.nl2sql.config import Nl2sqlSettings
from tally.nl2sql.llm.breaker import CircuitBreaker
from tally.nl2sql.llm.client import ChatClient, LlmUnavailable
from tally.nl2sql.llm.engine import LlmEngine, LlmResult, ProposedSql
from tally.nl2sql.llm.metrics import LlmMetrics

__all__ = [
    "LlmEngine",
    "LlmMetrics",
    "LlmResult",
    "LlmUnavailable",
    "ProposedSql",
    "build_engine",
]


def build_engine(settings: Nl2sqlSettings, registry: CollectorRegistry) -> LlmEngine | None:
    """The engine ``settings`` ask for, its metrics in ``registry``; or None (registering
    nothing) when questions never reach an LLM (``NL_ENGINE=builtin``, or no
    LLM_BASE_URL/LLM_MODEL)."""
    if not settings.llm_enabled:
        return None
    metrics = LlmMetrics(registry)
    breaker = CircuitBreaker(
        failures=settings.llm_breaker_failures, reset_s=settings.llm_breaker_reset_s
    )
    return LlmEngine(
        ChatClient(settings, metrics),
        breaker=breaker,
        metrics=metrics,
        deadline_s=settings.llm_deadline_s,
    )
