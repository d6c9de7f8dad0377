"""The words the parser understands, in English and Russian, as precompiled regexes.

Both languages are always matched: the question's language only chooses the language of
the reply. Russian words are matched by stem (``просмотр\\w*``) until pymorphy3 lemmatizes them.
"""

import re
from typing import Final

from tally.common.plan import Op
from tally.nl2sql.domain.numbers import NUMBER


def _words(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.IGNORECASE)


COUNTER_WORDS: Final = {
    "views_count": r"views?|просмотр\w*",
    "likes_count": r"likes?|лайк\w*",
    "comments_count": r"comments?|коммент\w*",
    "reports_count": r"reports?|complaints?|жалоб\w*|репорт\w*",
}
"""Each counter column with the words that name it."""

_COUNTER = "|".join(
    f"(?P<{column.split('_')[0]}>{words})" for column, words in COUNTER_WORDS.items()
)
COUNTER: Final = _words(_COUNTER)
"""Any counter word; the named group that matched (``views``, ``likes``, ...) tells which."""

VIDEO: Final = _words(r"videos?|clips?|видео\w*|ролик\w*|видос\w*")
CREATOR: Final = _words(r"creators?|authors?|bloggers?|креатор\w*|автор\w*|блогг?ер\w*")
SNAPSHOT: Final = _words(r"snapshots?|measurements?|снапшот\w*|снимк\w*|снимок|замер\w*")

OPS: Final[tuple[tuple[Op, str], ...]] = (
    (
        Op.GE,
        r"at\s+least|no\s+(?:less|fewer)\s+than|not\s+(?:less|fewer)\s+than|(?:a\s+)?minimum\s+of"
        r"|не\s+(?:менее|меньше)(?:\s+чем)?|как\s+минимум|минимум|от|>=|≥",
    ),
    (
        Op.LE,
        r"at\s+most|no\s+more\s+than|not\s+more\s+than|up\s+to|(?:a\s+)?maximum\s+of"
        r"|не\s+(?:более|больше)(?:\s+чем)?|максимум|до|<=|≤",
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
    r"\b(?:creator|author|blogger|креатор|автор|блогг?ер)\w*(?:\s+(?:with|under|с|под))?"
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

COUNT: Final = _words(
    r"how\s+many|how\s+much|number\s+of|count\s+of|amount\s+of|count|total",
    r"на\s*сколько|сколько|количество|кол-во|число|всего|итого",
)
"""Words asking for a number; the thing counted follows within a few filler words."""
FILLER: Final = _words(
    r"total|all|the|of|different|distinct|unique|in|new|sum|overall",
    r"всего|всех|разных|различных|уникальных|в|сумме|общее|суммарно|итого|же|новых",
)

SUM: Final = _words(
    r"total|sum|combined|overall|altogether|in\s+total",
    r"сумм\w*|в\s+сумме|суммарн\w*|общ\w*|итого",
)
AVERAGE: Final = _words(r"average|avg|mean", r"средн\w*|в\s+среднем")
MAXIMUM: Final = _words(
    r"max(?:imum)?|highest|largest|biggest|most", r"максим\w*|наибольш\w*|больше\s+всего|рекорд\w*"
)
MINIMUM: Final = _words(
    r"min(?:imum)?|lowest|smallest|least|fewest", r"миним\w*|наименьш\w*|меньше\s+всего"
)

GROWTH: Final = re.compile(
    r"\b(?:gain\w*|grew|grow\w*|increase\w*|rose|risen|прирост\w*|вырос\w*|рост\w*|прибав\w*|увелич\w*)\b"
    rf"|\b(?:new|нов\w*)\s+(?={_COUNTER})",
    re.IGNORECASE,
)
"""Words saying a counter went up during a period: the question is about snapshot deltas."""
DECLINE: Final = _words(
    r"negative|decrease\w*|decline\w*|dropp?\w*|fell|fall\w*|lost|lose|losing",
    r"отрицательн\w*|уменьш\w*|снизил\w*|снижен\w*|упал\w*|падени\w*|потерял\w*|сократил\w*",
)
"""Words saying a counter went down during a period (negative deltas)."""
DELTA: Final = _words(r"deltas?|changes?", r"дельт\w*|изменени\w*")
PUBLISHED: Final = _words(
    r"publish\w*|posted|uploaded|released|came\s+out|created|appeared",
    r"опублик\w*|публикац\w*|вышл\w*|вышел|вышедш\w*|выложен\w*|выложил\w*|выпущен\w*"
    r"|загружен\w*|загрузил\w*|создан\w*|появил\w*",
)
ALL_TIME: Final = _words(r"of\s+all\s+time|all\s+time|ever", r"за\s+вс[её]\s+время")

UNSUPPORTED: Final = _words(
    r"which|who|whose|list|show|top|each|every|rank\w*|per\s+(?:day|hour|week|month|creator)"
    r"|by\s+(?:day|hour|week|month)|what\s+(?:videos?|creators?|authors?)",
    r"как(?:ой|ая|ое|ие|их|им|ого|ому)\s+(?:видео\w*|ролик\w*|креатор\w*|автор\w*|блогг?ер\w*)"
    r"|какие|каких|кто|чей|чьи|список|покажи|выведи|топ|рейтинг\w*"
    r"|кажд\w*|по\s+(?:дням|часам|неделям|месяцам|креаторам|авторам)|в\s+разрезе",
)
"""Questions asking for a list, a ranking or a breakdown: not one number."""
NEGATION: Final = _words(r"not|no|without|except|excluding|never", r"не|нет|без|кроме|ни|исключая")
LEFTOVER_DATE: Final = re.compile(
    r"\b(?:day|days|week|weeks|month|months|year|years|hour|hours|today|yesterday|tomorrow|ago"
    r"|since|until|before|after|last|past|between"
    r"|jan\w*|feb\w*|mar|march|apr\w*|may|jun\w*|jul\w*|aug\w*|sep\w*|oct\w*|nov\w*|dec\w*)\b"
    r"|\b(?:дн[яеи]\w*|день|недел\w*|месяц\w*|год|года|году|годы|лет|час|часа|часов|часы|сегодня|вчера|позавчера|завтра|назад|после"
    r"|до|раньше|позже|прошл\w*|последн\w*|следующ\w*|между"
    r"|январ\w*|феврал\w*|март\w*|апрел\w*|ма[йяе]|июн\w*|июл\w*|август\w*|сентябр\w*|октябр\w*"
    r"|ноябр\w*|декабр\w*)\b",
    re.IGNORECASE,
)
"""Date words the date reader did not take: a date it could not read."""
LEFTOVER: Final = re.compile(
    r"\d|\b(?:more|less|fewer|over|under|above|below|больше|меньше|более|менее|свыше)\b",
    re.IGNORECASE,
)
"""What must not be left unread: numbers and comparisons the parser did not take."""
