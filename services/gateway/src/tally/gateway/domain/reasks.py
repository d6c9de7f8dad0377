"""Questions the gateway asked and has not seen answered, asked again when an answer is late.

Questions travel on core NATS, so one in flight in an nl2sql or executor replica that dies is
lost. Like ``tally ask`` (tally.cli.client.Asker), the gateway publishes such a question again
under the same question id after ``first_after_s``, then after each doubled delay, until
``timeout_s`` (2 s, 6 s, 14 s by default), and delivers only the first answer of a question
id: a second one (the first replica was only slow) is dropped. Times: ``time.monotonic()``
seconds.
"""

from collections import OrderedDict
from dataclasses import dataclass

from tally.contracts.events import QuestionAsked


@dataclass
class _Pending:
    question: QuestionAsked
    next_at: float
    delay: float
    give_up_at: float


class Reasks:
    """The unanswered questions and the ids answered lately (at most ``remember`` of them)."""

    def __init__(
        self, *, first_after_s: float = 2.0, timeout_s: float = 15.0, remember: int = 10_000
    ) -> None:
        self.first_after_s, self.timeout_s, self.remember = first_after_s, timeout_s, remember
        self._pending: dict[str, _Pending] = {}
        self._answered: OrderedDict[str, None] = OrderedDict()

    def asked(self, question: QuestionAsked, now: float) -> None:
        """Track ``question``, published at ``now`` (not when ``first_after_s`` is 0: off)."""
        delay = self.first_after_s
        if not delay:
            return
        self._pending[str(question.question_id)] = _Pending(
            question, now + delay, delay, now + self.timeout_s
        )

    def first_answer(self, question_id: str) -> bool:
        """Record an answer to ``question_id``; True the first time (deliver it), False for a
        later one (drop it)."""
        self._pending.pop(question_id, None)
        if question_id in self._answered:
            return False
        self._answered[question_id] = None
        while len(self._answered) > self.remember:
            self._answered.popitem(last=False)
        return True

    def due(self, now: float) -> list[QuestionAsked]:
        """The questions to publish again at ``now``; those past ``timeout_s`` are dropped."""
        again = []
        for question_id, pending in list(self._pending.items()):
            if now >= pending.give_up_at:
                del self._pending[question_id]
            elif now >= pending.next_at:
                pending.delay *= 2
                pending.next_at = now + pending.delay
                again.append(pending.question)
        return again
