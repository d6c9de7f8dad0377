"""Bounded memories: who was seen (first contact), who is sending too fast, the last answer
of each chat and the readings offered for ambiguous questions.

Each forgets its least recently used entries beyond its bound, so memory stays bounded
however many people write. Times are ``time.monotonic()`` seconds.
"""

from collections import OrderedDict
from enum import Enum
from uuid import UUID

from tally.contracts.choices import plan_choice
from tally.contracts.events import QueryPlanned, QuestionAnswered


class SeenUsers:
    """The ids of users seen by this process, the ``max_users`` most recent kept."""

    def __init__(self, max_users: int = 10_000) -> None:
        self._ids: OrderedDict[int, None] = OrderedDict()
        self._max_users = max_users

    def first_contact(self, user_id: int) -> bool:
        """True the first time ``user_id`` is seen (or seen again after being forgotten)."""
        known = user_id in self._ids
        self._ids[user_id] = None
        self._ids.move_to_end(user_id)
        if len(self._ids) > self._max_users:
            self._ids.popitem(last=False)
        return not known


class Verdict(Enum):
    """What to do with one message: handle it, drop it with a warning, or drop it silently."""

    ALLOW = "allow"
    WARN = "warn"
    DROP = "drop"


class Throttle:
    """Per-user minimum interval between handled messages (``interval_s`` seconds).

    A message sooner than ``interval_s`` after the user's last handled one is dropped; the
    first such drop in any ``interval_s`` window is a WARN (reply "slow down"), the rest DROP.
    """

    def __init__(self, interval_s: float, max_users: int = 10_000) -> None:
        self._interval_s = interval_s
        self._max_users = max_users
        self._users: OrderedDict[int, tuple[float, float]] = OrderedDict()

    def check(self, user_id: int, now: float) -> Verdict:
        """The verdict for a message of ``user_id`` arriving at ``now``; it is remembered."""
        allowed_at, warned_at = self._users.get(user_id, (float("-inf"), float("-inf")))
        if now - allowed_at >= self._interval_s:
            verdict, allowed_at = Verdict.ALLOW, now
        elif now - warned_at >= self._interval_s:
            verdict, warned_at = Verdict.WARN, now
        else:
            verdict = Verdict.DROP
        self._remember(user_id, (allowed_at, warned_at))
        return verdict

    def _remember(self, user_id: int, times: tuple[float, float]) -> None:
        self._users[user_id] = times
        self._users.move_to_end(user_id)
        if len(self._users) > self._max_users:
            self._users.popitem(last=False)


class LastAnswers:
    """The last answer sent to each chat (for /sql), the ``max_chats`` most recent chats kept.

    In memory, per gateway process: with several gateway replicas, /sql knows the answers
    this replica delivered.
    """

    def __init__(self, max_chats: int = 10_000) -> None:
        self._answers: OrderedDict[int, QuestionAnswered] = OrderedDict()
        self._max_chats = max_chats

    def remember(self, answer: QuestionAnswered) -> None:
        """Keep ``answer`` as the last one of its chat."""
        chat_id = answer.question.chat_id
        self._answers[chat_id] = answer
        self._answers.move_to_end(chat_id)
        if len(self._answers) > self._max_chats:
            self._answers.popitem(last=False)

    def last(self, chat_id: int) -> QuestionAnswered | None:
        """The last answer sent to ``chat_id``, or None."""
        return self._answers.get(chat_id)


class PickRefusal(Enum):
    """Why a press of a choice button plans nothing; the value is the key of its text (``say``)."""

    EXPIRED = "pick_expired"
    NOT_YOURS = "pick_not_yours"


class PendingChoices:
    """Ambiguous answers whose readings can still be picked, the ``max_questions`` most recent.

    In memory, per gateway process: after a restart, or on another replica, a pick is EXPIRED.
    """

    def __init__(self, max_questions: int = 10_000) -> None:
        self._answers: OrderedDict[UUID, QuestionAnswered] = OrderedDict()
        self._max_questions = max_questions

    def remember(self, answer: QuestionAnswered) -> None:
        """Offer the readings of ``answer`` (one with ``choices``) to its asker."""
        question_id = answer.question.question_id
        self._answers[question_id] = answer
        self._answers.move_to_end(question_id)
        if len(self._answers) > self._max_questions:
            self._answers.popitem(last=False)

    def pick(self, question_id: UUID, number: int, *, user_id: int) -> QueryPlanned | PickRefusal:
        """The QueryPlanned for reading ``number`` (1-based) of the question, which is then
        forgotten so it is picked once (see ``plan_choice``).

        NOT_YOURS when ``user_id`` did not ask it (the readings stay offered to the asker);
        EXPIRED when the question is unknown or forgotten, or has no reading ``number``.
        """
        answer = self._answers.get(question_id)
        if answer is None or not 1 <= number <= len(answer.choices):
            return PickRefusal.EXPIRED
        if answer.question.user_id != user_id:
            return PickRefusal.NOT_YOURS
        del self._answers[question_id]
        return plan_choice(answer, number)
