"""Questions about the group chat they are asked in: messages, who wrote, who joined or left.

"how many messages were sent here yesterday?", "кто больше всех писал на этой неделе?",
"how many people joined in October?", "messages per day last week". The plan names no chat:
the chat-scoped datasets (``messages``, ``member_events``) are only ever read within the
chat the question came from, which the executor adds to the query itself.

People are counted once each (distinct ``user_id``): "how many people joined" counts a
member who joined twice once. Rankings of people count their messages.
"""

import re
from typing import Final

from tally.language import vocabulary as words
from tally.language.grouping import Ranking
from tally.language.scan import Scan, Unclear
from tally.semantic.plan import (
    Aggregate,
    Dataset,
    Dimension,
    Filter,
    Measure,
    Op,
)

_HERE: Final = re.compile(
    r"\b(?:here|in\s+(?:this|the|our)\s+(?:chat|group)|(?:this|the|our)\s+(?:chat|group)"
    r"|здесь|тут|в\s+(?:этом\s+|нашем\s+|данном\s+)?chat|(?:этот|этого|этому|нашем|наш)\s+chat)\b",
    re.IGNORECASE,
)
"""Words pointing at the chat the question is asked in (Russian "чат" reads as "chat")."""
_VIDEO_WORDS: Final = (words.VIDEO, words.CREATOR, words.SNAPSHOT, words.COUNTER, words.VIDEO_ID)


def is_chat_question(scan: Scan) -> bool:
    """True when the question names messages, people, joining, leaving, writing or "here",
    and nothing of the video statistics."""
    chat = (words.MESSAGE, words.PERSON, words.JOINED, words.LEFT, words.WROTE, _HERE)
    return any(scan.has(p) for p in chat) and not any(scan.has(p) for p in _VIDEO_WORDS)


def _first_named(text: str) -> str | None:
    """ "message" or "user", whichever ``text`` names first, or None."""
    found = [
        (match.start(), kind)
        for kind, pattern in (("message", words.MESSAGE), ("user", words.PERSON))
        if (match := pattern.search(text))
    ]
    return min(found)[1] if found else None


def _counted(scan: Scan) -> str | None:
    """What is counted: the first of messages or people named after "how many", or with no
    "how many" ("messages per day last week") the first named at all."""
    counts = list(words.COUNT.finditer(scan.text))
    for count in counts:
        if kind := _first_named(scan.text[count.end() :]):
            return kind
    return None if counts else _first_named(scan.text)


def _change(scan: Scan) -> str | None:
    joined, left = bool(scan.take(words.JOINED)), bool(scan.take(words.LEFT))
    if joined and left:
        raise Unclear("unknown")
    return "join" if joined else ("leave" if left else None)


def chat_measure(
    scan: Scan, ranking: Ranking | None, *, typed: bool = False
) -> tuple[Dataset, Measure, tuple[Filter, ...], Dimension | None]:
    """The dataset, measure and filters of a chat question (its words taken from ``scan``),
    and the ranking's dimension; ``typed``: a message type was named, so with nothing else
    named, messages are counted. Raises :class:`Unclear` ("unknown") when it is not clear
    what is counted, ("unsupported") for a ranking of anything but people by messages."""
    counted = _counted(scan)
    change = _change(scan)
    for pattern in (words.COUNT, words.MESSAGE, words.PERSON, words.WROTE, words.CHAT, _HERE):
        scan.take(pattern)
    scan.take(words.PUBLISHED)  # "messages posted yesterday": sent, as any message
    if ranking is not None and (ranking.entity != "user" or change):
        raise Unclear("unsupported")
    if change:
        filters = (Filter(column="change", op=Op.EQ, value=change),)
        distinct = Measure(aggregate=Aggregate.COUNT_DISTINCT, column="user_id")
        return Dataset.MEMBER_EVENTS, distinct, filters, None
    if ranking is not None:
        return Dataset.MESSAGES, Measure(aggregate=Aggregate.COUNT), (), Dimension.USER
    if counted == "user":
        distinct = Measure(aggregate=Aggregate.COUNT_DISTINCT, column="user_id")
        return Dataset.MESSAGES, distinct, (), None
    if counted == "message" or (counted is None and typed):  # "how many photos"
        return Dataset.MESSAGES, Measure(aggregate=Aggregate.COUNT), (), None
    raise Unclear("unknown")


TIME_COLUMN: Final = {Dataset.MESSAGES: "sent_at", Dataset.MEMBER_EVENTS: "occurred_at"}
"""The time a chat question's dates are about, per dataset."""
