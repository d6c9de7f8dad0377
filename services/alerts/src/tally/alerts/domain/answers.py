"""Metrics observed from answers (``QuestionAnswered`` on the ACTIVITY stream).

Per answer, at the time it is observed (Unix seconds):

- ``question_failure_ratio``: 1.0 when the answer failed, else 0.0 (refusals and ask-backs
  are not failures), so ``avg`` over a window is the failed share of the window's questions
  and the window's sample count is the number of questions;
- ``llm_failure_ratio``: the same over answers of the LLM engine, where a failure is a
  ``failed`` answer with neither a plan nor SQL, i.e. the model did not answer (an LLM plan
  that failed in the database is the database's failure, counted above only);
- ``questions``: a counter of answers seen (``increase`` over a window: questions answered).
"""

from dataclasses import dataclass

from tally.alerts.domain.samples import SampleStore
from tally.contracts.events import QuestionAnswered


def llm_failed(answer: QuestionAnswered) -> bool:
    """True when the LLM engine itself failed to answer (no plan, no SQL)."""
    return (
        answer.engine == "llm"
        and answer.outcome == "failed"
        and answer.plan is None
        and answer.sql is None
    )


@dataclass
class AnswerMetrics:
    """Records each answer's samples into ``store``."""

    store: SampleStore
    questions: int = 0

    def observe(self, answer: QuestionAnswered, at: float) -> None:
        """Record ``answer`` observed at ``at`` (Unix seconds)."""
        self.questions += 1
        self.store.record("questions", self.questions, at)
        self.store.record("question_failure_ratio", float(answer.outcome == "failed"), at)
        if answer.engine == "llm":
            self.store.record("llm_failure_ratio", float(llm_failed(answer)), at)
