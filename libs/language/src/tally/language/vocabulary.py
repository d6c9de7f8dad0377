"""The words the parser understands, in English and Russian, as precompiled regexes.

Both languages are always matched: the question's language only chooses the language of
the reply. The text is canonicalized first (:func:`lexicon.canonicalize`): Russian key words
and misspelt key words are rewritten to one English word each ("роликов" -> "videos"), so
these regexes name the canonical words, plus the Russian function words lemmas do not cover.
The words for counters and entities are the semantic catalog's English synonyms.
"""

import re
from typing import Final, Literal

from tally.language.numbers import NUMBER
from tally.semantic import catalog
from tally.semantic.plan import Dataset, Op


def _words(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.IGNORECASE)


_CATALOG: Final = catalog()


def _synonyms(section: Literal["counter", "entity", "concept"], name: str) -> str:
    """The catalog's English words for one counter or entity as alternatives, longest
    first: ``"videos|video|clips|clip"``."""
    words = sorted(_CATALOG.words(section, name, "en"), key=len, reverse=True)
    return "|".join(map(re.escape, words))


COUNTER_WORDS: Final = {
    name: _synonyms("counter", column.counter)
    for name, column in _CATALOG.columns(Dataset.VIDEOS).items()
    if column.kind == "counter" and column.counter is not None
}
"""Each counter column with the words that name it (the catalog's synonyms)."""

_COUNTER = "|".join(
    f"(?P<{column.split('_')[0]}>{words})" for column, words in COUNTER_WORDS.items()
)
COUNTER: Final = _words(_COUNTER)
"""Any counter word; the named group that matched (``views``, ``likes``, ...) tells which."""


def counter_of(match: re.Match[str]) -> str:
    """The counter column a match of :data:`COUNTER` (or a pattern holding its groups) names:
    ``"likes_count"`` for "likes" or any of its synonyms."""
    return next(
        f"{name}_count" for name in ("views", "likes", "comments", "reports") if match[name]
    )


VIDEO: Final = _words(_synonyms("entity", "video"))
CREATOR: Final = _words(_synonyms("entity", "creator"))
SNAPSHOT: Final = _words(_synonyms("entity", "snapshot"))
MESSAGE: Final = _words(_synonyms("entity", "message"))
PERSON: Final = _words(_synonyms("entity", "user"))
CHAT: Final = _words(_synonyms("entity", "chat"))
JOINED: Final = _words(_synonyms("concept", "joined"))
LEFT: Final = _words(_synonyms("concept", "left"))
WROTE: Final = _words(_synonyms("concept", "wrote"))
""""Who wrote the most", "сколько человек писали": people counted by their messages."""
VIDEO_ID: Final = re.compile(
    rf"(?:\b(?:{_synonyms('entity', 'video')})(?:\s+(?:with|под|с))?"
    r"(?:\s+(?:the\s+)?(?:id|ид|айди))?\s*[:=#№]?\s*)?"
    r"\b(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b",
    re.IGNORECASE,
)
"""A video's UUID, with the words naming it ("video", "видео с id") when they come first."""

OPS: Final[tuple[tuple[Op, str], ...]] = (
    (
        Op.GE,
        r"at\s+least|no\s+(?:less|fewer)\s+than|not\s+(?:less|fewer)\s+than"
        r"|(?:a\s+|как\s+)?minimum(?:\s+of)?|не\s+(?:менее|меньше)(?:\s+чем)?|от|>=|≥",
    ),
    (
        Op.LE,
        r"at\s+most|no\s+more\s+than|not\s+more\s+than|up\s+to|(?:a\s+|как\s+)?maximum(?:\s+of)?"
        r"|не\s+(?:более|больше)(?:\s+чем)?|до|<=|≤",
    ),
    (
        Op.GT,
        r"more\s+than|greater\s+than|over|above|exceeding|in\s+excess\s+of"
        r"|(?:больше|более|свыше|выше)(?:\s+чем)?|>",
    ),
    (Op.LT, r"fewer\s+than|less\s+than|under|below|(?:меньше|менее|ниже)(?:\s+чем)?|<"),
    (Op.EQ, r"exactly|equal\s+to|ровно|="),
)
"""Comparison phrases by operator; "no more than" is listed before "more than" on purpose."""

_OP = "|".join(f"(?P<{op.name}>{words})" for op, words in OPS)
CREATOR_ID: Final = re.compile(
    r"\b(?:creator|author|blogger)s?(?:\s+(?:with|under|с|под))?"
    r"(?:\s+(?:the\s+)?(?P<marker>id|ид|айди|идентификатор\w*|identifier))?"
    r"\s*[:=#№]?\s*(?P<id>[a-z0-9][a-z0-9_-]{1,63})\b",
    re.IGNORECASE,
)
"""``creator abc123`` / ``креатора с id aca1061a…``: an id needs a digit or the word "id"."""
COMPARISON: Final = re.compile(
    rf"(?<![\w<>=])(?:{_OP})\s*{NUMBER}\s*\+?\s*(?:{_COUNTER})\b", re.IGNORECASE
)
"""``more than 100,000 views`` / ``больше 100 000 просмотров``."""
COMPARISON_AFTER: Final = re.compile(rf"\b(?:{_COUNTER})\s+(?:{_OP})\s*{NUMBER}", re.IGNORECASE)
"""``просмотров больше 100 000`` (the counter first)."""
COMPARISON_PLUS: Final = re.compile(
    rf"(?<![\w.,]){NUMBER}\s*(?P<GE>\+)\s*(?:{_COUNTER})\b", re.IGNORECASE
)
"""``500+ likes``: at least 500."""
COMPARISON_NONE: Final = re.compile(
    rf"\b(?:no|zero|0|without(?:\s+any)?|без|ноль|нуль|с\s+нул(?:ём|ем|евым\s+числом))\s+"
    rf"(?:{_COUNTER})\b",
    re.IGNORECASE,
)
"""``no likes`` / ``without comments`` / ``без жалоб``: the counter equals 0."""

COUNT: Final = _words(
    r"how\s+many|how\s+much|number\s+of|count\s+of|amount\s+of|count|total",
    r"на\s*сколько|сколько|кол-во|всего|итого",
)
"""Words asking for a number; the thing counted follows within a few filler words."""
FILLER: Final = _words(
    r"total|all|the|of|different|distinct|unique|in|new|sum|overall|hourly"
    r"|did|do|does|were|was|have|has|had|are|is",
    r"всего|всех|разных|различных|уникальных|в|итого|же",
)

SUM: Final = _words(
    r"total|sum|combined|overall|altogether|in\s+total",
    r"итого",
)
AVERAGE: Final = _words(r"average|avg|mean")
MEDIAN: Final = _words(r"median")
MAXIMUM: Final = _words(r"max(?:imum)?|highest|largest|biggest|most", r"больше\s+всего")
MINIMUM: Final = _words(r"min(?:imum)?|lowest|smallest|least|fewest", r"меньше\s+всего")

GROWTH: Final = re.compile(
    r"\b(?:gain\w*|grew|grow\w*|increase\w*|rose|risen)\b"
    rf"|\bnew\s+(?={_COUNTER})",
    re.IGNORECASE,
)
"""Words saying a counter went up during a period: the question is about snapshot deltas."""
GROWTH_NOUN: Final = _words(r"growth|increase")
""""View growth on …" / "прирост просмотров за …" asks for a total without "how many"."""
DECLINE: Final = _words(
    r"negative|decrease\w*|decline\w*|dropped|dropping|fell|fall\w*|lost|lose|losing",
)
"""Words saying a counter went down during a period (negative deltas)."""
DELTA: Final = _words(r"deltas?|changes?")
PUBLISHED: Final = _words(
    r"publish\w*|post|posted|upload\w*|release[sd]?|came\s+out|come\s+out|created|appeared"
)
ACQUIRED: Final = _words(r"got|get|gets|getting|received?|receiving|earned?|collected")
"""Verbs of getting ("got views", "набрали просмотров"): growth when a day is named."""
ALL_TIME: Final = _words(r"of\s+all\s+time|all\s+time|ever", r"за\s+вс[её]\s+время")

UNSUPPORTED: Final = _words(
    r"which|who|whose|list|show|top|each|every|rank\w*|per\s+(?:day|hour|week|month|creator)"
    r"|by\s+(?:day|hour|week|month)|what\s+(?:videos?|creators?|authors?)",
    r"как(?:ой|ая|ое|ие|их|им|ого|ому)\s+(?:videos|creator)"
    r"|какие|каких|кто|чей|чьи|топ|по\s+(?:дням|часам|неделям|месяцам|creator)|в\s+разрезе",
)
"""Questions asking for a list, a ranking or a breakdown: not one number."""
SHOW: Final = _words(r"show(?:\s+me)?|give\s+me|display|tell\s+me")
""""Show me the top 10 creators": a request word, read when a ranking or series was taken."""
UNIVERSAL: Final = _words(r"all|every|each", r"вс[её]|всех|все[мх]и?|каждый|каждого|любой|любого")
""""Creators whose videos ALL …": a quantifier over a creator's videos, not a filler word."""
NEGATION: Final = _words(r"not|no|without|except|excluding|never", r"не|нет|без|кроме|ни|исключая")
LEFTOVER_DATE: Final = re.compile(
    r"\b(?:day|days|week|weeks|month|months|year|years|hour|hours|today|yesterday|tomorrow|ago"
    r"|since|until|before|after|last|past|between"
    r"|jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b"
    r"|\b(?:дн[яеи]\w*|день|недел\w*|месяц\w*|год|года|году|годы|лет|час|часа|часов|часы|сегодня|вчера|позавчера|завтра|назад|после"
    r"|до|раньше|позже|прошл\w*|последн\w*|следующ\w*|между"
    r"|январ\w*|феврал\w*|март\w*|апрел\w*|ма[йяе]|июн\w*|июл\w*|август\w*|сентябр\w*|октябр\w*"
    r"|ноябр\w*|декабр\w*)\b",
    re.IGNORECASE,
)
"""Date words the date reader did not take: a date it could not read."""
LEFTOVER: Final = re.compile(
    r"\d|\b(?:more|less|fewer|over|under|above|below|zero|none|больше|меньше|более|менее|свыше"
    r"|ноль|нуль|нул\w+)\b",
    re.IGNORECASE,
)
"""What must not be left unread: numbers and comparisons the parser did not take."""

WRITE: Final = re.compile(
    r"\b(?:delete|drop|remove|update|insert|truncate|alter|grant|revoke|create\s+table|erase|wipe"
    r"|select|union|exec\w*|pg_\w+|information_schema|dblink|sleep)\b|;|--|/\*|\*/",
    re.IGNORECASE,
)
"""Requests to change data and SQL fragments: refused, Tally only reads."""
INJECTION: Final = _words(
    r"ignore|disregard|forget|instructions?|prompts?|jailbreak|pretend|override|bypass"
    r"|passwords?|tokens?|secrets?|api\s+keys?|system\s+messages?|developer\s+mode",
)
"""Text that talks to the model instead of asking about the data (prompt injection)."""
