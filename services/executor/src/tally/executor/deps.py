"""What the executor's handlers need, as FastStream context: ``Annotated`` aliases to declare
in a handler's signature, and :func:`provide` to put the values in a broker's context.

The answer cache and the operations reporter may be absent (None). The subjects
(:data:`tally.runtime.broker.SubjectsDep`) are the ones ``create_broker`` put there.
"""

from dataclasses import dataclass
from typing import Annotated

from faststream import Context
from faststream.nats import NatsBroker

from tally.contracts.events import QuestionAnswered
from tally.executor.cache import AnswerCache
from tally.executor.metrics import ExecutorMetrics
from tally.executor.ops import OpsReporter
from tally.executor.runner import Reader
from tally.infra.idempotency import RecentQuestions

ReaderDep = Annotated[Reader, Context("reader")]
"""The ``tally_reader`` pool plans and chat reports run on."""
LlmReaderDep = Annotated[Reader, Context("llm_reader")]
"""The ``tally_llm`` pool LLM-written SQL runs on (the video tables only)."""
MetricsDep = Annotated[ExecutorMetrics, Context("metrics")]
CacheDep = Annotated[AnswerCache | None, Context("cache", default=None)]
OpsDep = Annotated[OpsReporter, Context("ops")]
RecentDep = Annotated[RecentQuestions[QuestionAnswered], Context("recent")]
"""Question ids in flight or answered here (plans and LLM-written SQL alike)."""


@dataclass(frozen=True, slots=True)
class Dependencies:
    """The values behind the aliases above, for one broker."""

    reader: Reader
    llm_reader: Reader
    metrics: ExecutorMetrics
    cache: AnswerCache | None = None
    ops: OpsReporter | None = None


def provide(broker: NatsBroker, dependencies: Dependencies) -> None:
    """Put ``dependencies`` (and a fresh :class:`RecentQuestions`) in ``broker``'s context."""
    context = broker.context
    for name in ("reader", "llm_reader", "metrics", "cache", "ops"):
        context.set_global(name, getattr(dependencies, name))
    context.set_global("recent", RecentQuestions[QuestionAnswered]())
