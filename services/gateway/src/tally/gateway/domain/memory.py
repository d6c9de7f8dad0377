"""The gateway's memories as pure logic: who was seen (first contact, kept by each process,
its least recently used ids forgotten beyond a bound), the throttle's verdicts and whether a
reading may be picked. What several gateways must see alike is kept in NATS
(tally.gateway.shared).
"""

from collections import OrderedDict
from enum import Enum
from typing import NamedTuple

from tally.contracts.events import QuestionAnswered


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


class ThrottleTimes(NamedTuple):
    """One user's throttle: when their last handled message came and when they were last
    warned (seconds on one clock; ``-inf``: never)."""

    allowed_at: float = float("-inf")
    warned_at: float = float("-inf")

    def judge(self, now: float, interval_s: float) -> tuple[Verdict, "ThrottleTimes"]:
        """The verdict for a message arriving at ``now``, given a minimum interval of
        ``interval_s`` seconds between handled messages, and the times to keep after it.

        A message sooner than ``interval_s`` after the last handled one is dropped; the first
        such drop in any ``interval_s`` window is a WARN (reply "slow down"), the rest DROP.
        The times only move forward: when :meth:`settled` holds at ``now``, every later state
        of the same user judges DROP as well.
        """
        if now - self.allowed_at >= interval_s:
            return Verdict.ALLOW, self._replace(allowed_at=now)
        if now - self.warned_at >= interval_s:
            return Verdict.WARN, self._replace(warned_at=now)
        return Verdict.DROP, self

    def settled(self, now: float, interval_s: float) -> bool:
        """True when a message at ``now`` is a DROP (both times within ``interval_s``)."""
        return self.judge(now, interval_s)[0] is Verdict.DROP


class PickRefusal(Enum):
    """Why a press of a choice button plans nothing; the value is the key of its text (``say``)."""

    EXPIRED = "pick_expired"
    NOT_YOURS = "pick_not_yours"


def pick_refusal(answer: QuestionAnswered, number: int, *, user_id: int) -> PickRefusal | None:
    """Why ``user_id`` may not pick reading ``number`` (1-based) of ``answer``; None when they
    may. EXPIRED when it has no reading ``number``, NOT_YOURS when ``user_id`` did not ask
    (the readings stay offered to the asker)."""
    if not 1 <= number <= len(answer.choices):
        return PickRefusal.EXPIRED
    if answer.question.user_id != user_id:
        return PickRefusal.NOT_YOURS
    return None
