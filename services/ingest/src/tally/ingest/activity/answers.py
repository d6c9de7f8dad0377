"""The questions log: answers from stream ACTIVITY, a fetch at a time.

A fetch (up to :data:`ANSWERS_BATCH` answers) is one INSERT in one transaction. An answer
that is not valid becomes a dead letter; when the database refuses a value of one answer,
the fetch is inserted one by one and only the refused answers are dead-lettered. A failure
that may pass naks the whole fetch with ``retry_delay_s``.
"""

from dataclasses import dataclass
from typing import Annotated, Any

from faststream import Context, Depends
from faststream.exceptions import NackMessage
from faststream.nats.annotations import NatsBroker
from faststream.nats.message import NatsBatchMessage
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.chatstore.write.writer import refuses_the_data
from tally.contracts.events import DeadLetter, QuestionAnswered, utcnow
from tally.contracts.subjects import Subjects
from tally.infra.telemetry import batch_span
from tally.ingest.activity.domain.rows import Row, answer_letter, parse_answers, question_row
from tally.ingest.activity.store import insert_questions
from tally.ingest.delivery import RETRYABLE
from tally.ingest.deps import EngineDep, MetricsDep, SettingsDep, SubjectsDep
from tally.ingest.metrics import IngestMetrics
from tally.runtime.deadletter import publish_dead_letter

ANSWERS_BATCH = 200
"""Answers logged per fetch and INSERT: one transaction per batch, not per question."""


@dataclass(frozen=True)
class AnswersLog:
    """Writes answers to the questions log through ``engine``, dead-lettering on
    ``subjects``; a failure that may pass is retried after ``retry_delay_s`` seconds."""

    engine: AsyncEngine
    subjects: Subjects
    metrics: IngestMetrics
    retry_delay_s: float

    async def store(
        self, answers: list[QuestionAnswered], invalid: list[DeadLetter], broker: NatsBroker
    ) -> None:
        """Dead-letter ``invalid``, insert ``answers``. Raises NackMessage (retry the fetch)."""
        for letter in invalid:
            await publish_dead_letter(broker, self.subjects, letter, kind="validation")
            self.metrics.handled("answer", "dead_letter")
        rows = [question_row(answer, answered_at=utcnow()) for answer in answers]
        try:
            added = await insert_questions(engine=self.engine, rows=rows)
        except SQLAlchemyError as error:
            self._raise_unless_refused(error, count=True)
            added = await self._one_by_one(answers, rows, broker)
        self.metrics.handled("answer", "stored", added)
        self.metrics.handled("answer", "duplicate", len(rows) - added)

    async def _one_by_one(
        self, answers: list[QuestionAnswered], rows: list[Row], broker: NatsBroker
    ) -> int:
        """Insert ``rows`` one at a time (the database refused a value in one of them):
        each refused row's answer becomes a dead letter; returns the rows added."""
        added = 0
        for answer, row in zip(answers, rows, strict=True):
            try:
                added += await insert_questions(engine=self.engine, rows=[row])
            except SQLAlchemyError as error:
                self._raise_unless_refused(error, count=False)
                letter = answer_letter(answer, self.subjects, f"database refused it: {error}")
                await publish_dead_letter(broker, self.subjects, letter, kind="database")
                self.metrics.handled("answer", "dead_letter")
        return added

    def _raise_unless_refused(self, error: SQLAlchemyError, *, count: bool) -> None:
        """Raise NackMessage unless the database refused the data for good."""
        if isinstance(error, RETRYABLE) or not refuses_the_data(error):
            if count:
                self.metrics.handled("answer", "retried")
            raise NackMessage(delay=self.retry_delay_s) from error


def answers_log(
    engine: EngineDep, subjects: SubjectsDep, metrics: MetricsDep, settings: SettingsDep
) -> AnswersLog:
    """The questions log of this broker's deployment."""
    return AnswersLog(engine, subjects, metrics, retry_delay_s=settings.retry_delay_s)


async def log_answers(
    payloads: list[Any],
    broker: NatsBroker,
    fetch: Annotated[NatsBatchMessage, Context("message")],
    log: Annotated[AnswersLog, Depends(answers_log)],
) -> None:
    """Log one fetch of answers (bodies decoded, not validated: each is checked here, so
    one invalid answer does not hold the others back)."""
    fetched = fetch.raw_message
    with batch_span("ingest answers batch", (message.headers for message in fetched)):
        answers, invalid = parse_answers(
            payloads,
            subjects=[message.subject for message in fetched],
            headers=[message.headers for message in fetched],
        )
        await log.store(answers, invalid, broker)
