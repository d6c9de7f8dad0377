"""Publishing a question's answer: the one way nl2sql (refusals) and the executor do it."""

from typing import Protocol

from tally.contracts.events import QuestionAnswered
from tally.contracts.subjects import Subjects


class Publisher(Protocol):
    """What publishes a message on a subject: a ``NatsBroker``, or a publisher a router made
    (``router.publisher(subjects.answers_all)``, which documents the answers in AsyncAPI; a
    subject given to it is used as it is, without the router's prefix)."""

    async def publish(
        self, message: QuestionAnswered, subject: str, *, headers: dict[str, str]
    ) -> object: ...


async def publish_answer(
    publisher: Publisher, answered: QuestionAnswered, subjects: Subjects
) -> None:
    """Publish ``answered`` on ``answers.{channel}.{question_id}`` (with the question's
    ``reply_to``: ``answers.{channel}.{reply_to}.{question_id}``) with the ``Nats-Msg-Id``
    header ``answer-{question_id}`` (:meth:`Subjects.answer_headers`), so the ACTIVITY stream
    keeps one answer per question when a re-asked question is answered twice. Raises the
    publisher's errors."""
    question = answered.question
    question_id = str(question.question_id)
    await publisher.publish(
        answered,
        subjects.answer(question.channel, question_id, question.reply_to),
        headers=subjects.answer_headers(question_id),
    )
