"""nl2sql's Prometheus metrics, per registry (bounded labels only)."""

from prometheus_client import CollectorRegistry, Counter, Histogram

from tally.runtime.metrics import LANGUAGES, zero

OUTCOMES = ("planned", "proposed", "ambiguous", "refused", "failed")


class Nl2sqlMetrics:
    """Questions by outcome (planned, proposed, refused, failed), language and engine
    (builtin, llm); the built-in parser's time per question (s); questions asked again under
    an id already met (``dropped`` while the first attempt is in flight, ``replayed`` once it
    was handled: its event published again, nothing read again). The LLM engine's own
    metrics are :class:`tally.nl2sql.llm.LlmMetrics`, registered when an LLM is on."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.questions = Counter(
            "tally_nl2sql_questions_total",
            "Questions read, by outcome",
            ["outcome", "language", "engine"],
            registry=registry,
        )
        self.plan_seconds = Histogram(
            "tally_nl2sql_plan_seconds",
            "Time the built-in parser took to read one question into a plan or a refusal",
            buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1),
            registry=registry,
        )
        self.repeated = Counter(
            "tally_nl2sql_repeated_questions_total",
            "Questions asked again under an id already in flight or handled, by what was done",
            ["action"],
            registry=registry,
        )
        zero(self.questions, outcome=OUTCOMES, language=LANGUAGES, engine=("builtin", "llm"))
        zero(self.repeated, action=("dropped", "replayed"))
