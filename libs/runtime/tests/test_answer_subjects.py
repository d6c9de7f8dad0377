"""A question that names the instance waiting for it (``reply_to``) is answered on that
instance's subject; one without it on its channel's, as before."""

import pytest
from pydantic import ValidationError

from tally.contracts.access import covers
from tally.contracts.events import QuestionAnswered, QuestionAsked
from tally.contracts.subjects import Subjects
from tally.runtime.answers import publish_answer

S = Subjects("tally")


class Recorder:
    """A Publisher that keeps each (subject, headers) published."""

    def __init__(self) -> None:
        self.published: list[tuple[str, dict[str, str]]] = []

    async def publish(
        self, message: QuestionAnswered, subject: str, *, headers: dict[str, str]
    ) -> None:
        self.published.append((subject, headers))


def _question(reply_to: str | None) -> QuestionAsked:
    return QuestionAsked(
        channel="telegram", chat_id=1, user_id=1, language="en", text="q", reply_to=reply_to
    )


@pytest.mark.parametrize("reply_to", [None, "gw-1"])
async def test_the_answer_goes_to_the_instance_that_asked(reply_to: str | None) -> None:
    """``answers.telegram.gw-1.<id>``: only gw-1's own subscription matches it, not the
    channel's queue-group wildcard; without reply_to the other way round."""
    question = _question(reply_to)
    recorder = Recorder()
    await publish_answer(recorder, QuestionAnswered(question=question, outcome="answered"), S)
    [(subject, headers)] = recorder.published
    qid = str(question.question_id)
    assert headers == {"Nats-Msg-Id": f"answer-{qid}"}
    mine, other, unrouted = (
        S.answers_to("telegram", "gw-1"),
        S.answers_to("telegram", "gw-2"),
        S.answers_for("telegram"),
    )
    if reply_to is None:
        assert subject == f"tally.answers.telegram.{qid}"
        assert covers(unrouted, subject) and not covers(mine, subject)
    else:
        assert subject == f"tally.answers.telegram.gw-1.{qid}"
        assert covers(mine, subject) and not covers(other, subject)
        assert not covers(unrouted, subject) and covers(S.answers_routed("telegram"), subject)
        assert covers(S.answers_all, subject)


@pytest.mark.parametrize("reply_to", ["", "a.b", "a*", "x" * 65])
def test_a_reply_to_that_is_not_one_subject_token_is_refused(reply_to: str) -> None:
    with pytest.raises(ValidationError):
        _question(reply_to)
