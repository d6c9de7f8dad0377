"""The LLM engine: a question into a query plan, SQL for the executor's firewall, or a refusal.

Plain async code (no broker): it asks the model for one JSON reply (:class:`LlmReply`),
validates it like the parser's plans, asks once for a repair when the reply is invalid, and
refuses rather than guess when the repair is invalid too. A circuit breaker and a deadline
make a dead or hanging provider cost one fast :class:`LlmUnavailable`, not a hung chat.
"""

import asyncio
from dataclasses import dataclass
from datetime import date
from typing import Final

import structlog
from pydantic import ValidationError

from tally.contracts.events import Language
from tally.language.describe import describe
from tally.language.refusal import Refusal
from tally.nl2sql.llm import texts
from tally.nl2sql.llm.breaker import CircuitBreaker
from tally.nl2sql.llm.client import ChatClient, LlmUnavailable
from tally.nl2sql.llm.metrics import LlmMetrics
from tally.nl2sql.llm.prompts import LlmReply, messages, repair_messages
from tally.semantic.plan import QueryPlan

REPAIRS: Final = 1
"""Invalid replies answered with the validation errors before the engine refuses."""

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class ProposedSql:
    """SQL the model wrote for a question no plan can express; untrusted until the
    executor's firewall accepts it. ``interpretation`` is the model's one line on what it counts."""

    sql: str
    interpretation: str


LlmResult = QueryPlan | ProposedSql | Refusal


class LlmEngine:
    """Reads questions with a chat model behind ``client``.

    ``deadline_s`` bounds the whole consultation of one question (retries and the repair
    included); ``breaker`` counts questions whose model call failed, not invalid replies.
    """

    def __init__(
        self,
        client: ChatClient,
        *,
        breaker: CircuitBreaker,
        metrics: LlmMetrics,
        deadline_s: float,
    ) -> None:
        self.client = client
        self.breaker = breaker
        self._metrics = metrics
        self._deadline_s = deadline_s

    async def read(self, text: str, *, language: Language, today: date) -> LlmResult:
        """The plan, SQL or refusal for ``text``; ``today`` is the UTC day relative dates
        count from. Texts for the asker are in ``language``.

        Raises LlmUnavailable (kind ``breaker_open``, ``timeout`` or ``http``) when the model
        was not asked or did not answer.
        """
        if not self.breaker.allow():
            self._metrics.error("breaker_open")
            raise LlmUnavailable("breaker_open", "too many recent failures")
        try:
            result = await self._within_deadline(text, language, today)
        except BaseException as error:
            self.breaker.failed()
            if isinstance(error, LlmUnavailable):
                self._metrics.error(error.kind)
            elif isinstance(error, Exception):  # not a cancellation
                self._metrics.error("other")
            raise
        self.breaker.succeeded()
        return result

    async def close(self) -> None:
        """Release the HTTP connections."""
        await self.client.close()

    async def _within_deadline(self, text: str, language: Language, today: date) -> LlmResult:
        try:
            async with asyncio.timeout(self._deadline_s):
                return await self._converse(text, language, today)
        except TimeoutError as error:
            raise LlmUnavailable("timeout", f"no reply within {self._deadline_s:g} s") from error

    async def _converse(self, text: str, language: Language, today: date) -> LlmResult:
        conversation = messages(text, language=language, today=today)
        for _ in range(REPAIRS + 1):
            completion = await self.client.complete(conversation)
            try:
                return _result(LlmReply.model_validate_json(completion.text), language)
            except ValidationError as error:
                self._metrics.error("invalid")
                log.info("llm reply invalid", errors=_summary(error))
                conversation = repair_messages(conversation, completion.text, _summary(error))
        return Refusal(reason=texts.unreadable(language), examples=texts.examples(language))


def _result(reply: LlmReply, language: Language) -> LlmResult:
    """The reply as an engine result; a plan's interpretation is rewritten from the plan
    itself (the parser's wording), so what the asker reads is what is counted."""
    if reply.plan is not None:
        return reply.plan.model_copy(update={"interpretation": describe(reply.plan, language)})
    if reply.sql is not None:
        return ProposedSql(sql=reply.sql, interpretation=reply.interpretation)
    reason = reply.refuse or texts.unreadable(language)
    return Refusal(reason=reason, examples=texts.examples(language))


def _summary(error: ValidationError) -> str:
    """The first few validation errors, one ``location: message`` each."""
    parts = [
        f"{'.'.join(str(part) for part in detail['loc']) or 'reply'}: {detail['msg']}"
        for detail in error.errors(include_url=False)[:5]
    ]
    return "; ".join(parts)
