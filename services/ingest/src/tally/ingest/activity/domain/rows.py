"""Turn the activity record into rows of ``questions`` and ``bot_users`` (and dead letters for
answers that are not valid).

Rows are plain dicts keyed by column name, ready for a multi-row SQLAlchemy Core insert.
"""

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from tally.contracts.events import (
    DeadLetter,
    QuestionAnswered,
    UserSeen,
    describe,
    validate_each,
)
from tally.contracts.subjects import Subjects

Row = dict[str, Any]


def question_row(answer: QuestionAnswered, *, answered_at: datetime) -> Row:
    """The ``questions`` log row for one answered (or refused, or failed) question."""
    question = answer.question
    return {
        "id": question.question_id,
        "channel": question.channel,
        "chat_id": question.chat_id,
        "user_id": question.user_id,
        "language": question.language,
        "text": question.text,
        "asked_at": question.asked_at,
        "answered_at": answered_at,
        "plan": answer.plan.model_dump(mode="json") if answer.plan else None,
        "value": None if answer.value is None else float(answer.value),
        **answer.model_dump(
            include={"outcome", "engine", "sql", "params", "interpretation", "reason"}
            | {"row_count", "elapsed_ms", "total_ms"}
        ),
    }


def bot_user_row(seen: UserSeen) -> Row:
    """The ``bot_users`` row for a user seen now (first and last seen at ``seen_at``)."""
    return {
        **seen.model_dump(
            include={"user_id", "chat_id", "username", "first_name", "last_name", "language_code"}
        ),
        "first_seen_at": seen.seen_at,
        "last_seen_at": seen.seen_at,
    }


def _as_text(payload: Any) -> str:
    if isinstance(payload, bytes):
        return payload.decode("utf-8", "replace")
    return payload if isinstance(payload, str) else json.dumps(payload, default=str)


def parse_answers(
    payloads: Sequence[Any],
    *,
    subjects: Sequence[str],
    headers: Sequence[Mapping[str, str] | None],
) -> tuple[list[QuestionAnswered], list[DeadLetter]]:
    """Decoded bodies of one fetch, with each message's subject and headers (in the same
    order) -> (valid answers, dead letters for the rest). Each letter keeps its message's own
    subject and headers, so publishing its payload there replays it."""
    answers: list[QuestionAnswered] = []
    letters: list[DeadLetter] = []
    for payload, subject, header in zip(payloads, subjects, headers, strict=True):
        valid, invalid = validate_each(QuestionAnswered, [payload])
        answers.extend(valid)
        letters.extend(
            DeadLetter(
                service="ingest",
                subject=subject,
                reason=f"invalid QuestionAnswered: {describe(error)}",
                payload=_as_text(payload),
                headers={key: str(value) for key, value in (header or {}).items()},
            )
            for _, error in invalid
        )
    return answers, letters


def answer_letter(answer: QuestionAnswered, subjects: Subjects, reason: str) -> DeadLetter:
    """A valid answer that could not be logged, as a DeadLetter of ingest on its subject."""
    question = answer.question
    return DeadLetter(
        service="ingest",
        subject=subjects.answer(question.channel, str(question.question_id), question.reply_to),
        reason=reason,
        payload=answer.model_dump_json(),
    )
