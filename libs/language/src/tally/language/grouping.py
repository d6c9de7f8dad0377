"""Rankings and series: "top 5 videos by views", "какой креатор опубликовал больше всего
видео", "views gained per day in November", "прирост просмотров по часам 28 ноября".

Reads the canonical text (see :mod:`lexicon`). A ranking names an entity (video or creator),
how many (``top 5``; "which video" is 1, "which videos" and a bare "top" are 10) and a
direction (most: descending; least, bottom: ascending). A series names its grain (day or
hour). What is ranked or summed is read by the parser like any other question.
"""

import re
from dataclasses import dataclass
from typing import Final

from tally.language.scan import Scan, Unclear
from tally.semantic.plan import MAX_GROUPS, Dimension

_VIDEO: Final = r"videos?|clips?"
_CREATOR: Final = r"creators?|authors?|bloggers?"
_PEOPLE: Final = r"people|persons?|users?|members?|participants?"
_WHAT: Final = rf"(?P<what>{_VIDEO}|{_CREATOR}|{_PEOPLE})\b"
_N: Final = r"(?P<n>\d{1,3})"


def _pattern(regex: str) -> re.Pattern[str]:
    return re.compile(regex, re.IGNORECASE)


_TOP: Final = _pattern(
    rf"\b(?:(?P<top>top|топ)|(?P<bottom>bottom|антитоп))\s*-?\s*{_N}?\s+"
    rf"(?:(?:the\s+)?(?:most|best|worst)\s+)?{_WHAT}"
)
"""``top 5 videos`` / ``топ-10 креаторов`` / ``bottom 3 creators``."""
_MOST_VERBED: Final = _pattern(
    rf"\b(?:the\s+)?{_N}?\s*(?:the\s+)?(?P<most>most|least)\s+"
    r"(?P<counter>viewed|liked|commented|reported)\s+(?P<what>videos?|clips?)\b"
)
"""``the 3 most viewed videos`` / ``the least liked video``."""
_MOST_VERBED_RU: Final = _pattern(
    r"\b(?:(?P<most>сам(?:ое|ого|ый|ом|ым|ая|ой|ые|ых))|(?P<least>наименее))\s+"
    r"(?P<counter>просматриваем\w*|комментируем\w*|обсуждаем\w*|лайкаем\w*|залайкан\w*)\s+"
    r"(?P<what>videos)\b"
)
"""``самого комментируемого видео`` / ``наименее просматриваемое видео`` (one video)."""
_RU_COUNTERS: Final = (
    ("просматриваем", "views"),
    ("комментируем", "comments"),
    ("обсуждаем", "comments"),
    ("лайкаем", "likes"),
    ("залайкан", "likes"),
)
_WHICH: Final = _pattern(
    r"\b(?:(?P<one>which|what|какой|какая|какое|который|которое|которая|кто\s+из)"
    rf"|(?P<many>какие|которые))\s+{_N}?\s*{_WHAT}"
)
"""``which video`` (one) / ``какие 5 видео`` (five) / ``which creators`` (ten). In Russian
the interrogative tells one from many ("какое видео", "какие видео"); in English the noun."""
_WHO: Final = _pattern(r"\b(?:who|кто)\b(?!\s+из\b)")
"""``who wrote the most`` / ``кто больше всех писал``: one person (with a "most" word)."""
_MOST: Final = _pattern(
    r"\b(?:больше\s+(?:всего|всех)|чаще\s+всех|активнее\s+всех|(?:the\s+)?most|(?:the\s+)?highest|(?:the\s+)?biggest|"
    r"(?:the\s+)?largest|наибольш\w*|самы[йхе]\s+больш\w*|максимальн\w*)\b"
)
_LEAST: Final = _pattern(
    r"\b(?:меньше\s+(?:всего|всех)|реже\s+всех|(?:the\s+)?least|(?:the\s+)?fewest|(?:the\s+)?lowest|"
    r"(?:the\s+)?smallest|наименьш\w*|минимальн\w*)\b"
)
_SERIES: Final = (
    (
        Dimension.DAY,
        _pattern(
            r"\b(?:per\s+day|each\s+day|every\s+day|by\s+days?|day\s+by\s+day|daily"
            r"|по\s+дням|(?:за\s+)?each\s+(?:день|дню)|ежедневн\w*)\b"
        ),
    ),
    (
        Dimension.HOUR,
        _pattern(
            r"\b(?:per\s+hour|each\s+hour|every\s+hour|by\s+hours?|hour\s+by\s+hour"
            r"|hourly(?!\s+snapshots)|по\s+часам|(?:за\s+)?each\s+час|почасов\w*(?!\s+snapshots))\b"
        ),
    ),
)
DEFAULT_LIMIT: Final = 10


@dataclass(frozen=True, slots=True)
class Ranking:
    """Rank ``entity`` ("video", "creator" or "user") rows, keep ``limit``, ``descending`` or not;
    ``counter`` is the counter column a phrase like "most viewed" named, if any."""

    entity: str
    limit: int
    descending: bool
    counter: str | None = None

    @property
    def dimension(self) -> Dimension:
        return Dimension(self.entity)


def _entity(word: str) -> str:
    """ "video", "creator" or "user" for a word of ``_WHAT``."""
    for entity, pattern in (("video", _VIDEO), ("user", _PEOPLE)):
        if re.fullmatch(pattern, word, re.IGNORECASE):
            return entity
    return "creator"


def _limit(match: re.Match[str], default: int) -> int:
    limit = int(match["n"]) if match["n"] else default
    if not 1 <= limit <= MAX_GROUPS:
        raise Unclear("limit")
    return limit


def _direction(scan: Scan) -> bool | None:
    """True for "most", False for "least", None when neither is said (both taken)."""
    most, least = scan.take(_MOST), scan.take(_LEAST)
    if most and least:
        raise Unclear("unknown")
    return True if most else (False if least else None)


def _top(scan: Scan) -> Ranking | None:
    match = next(iter(scan.take(_TOP)), None)
    if match is None:
        return None
    direction = _direction(scan)
    descending = direction if direction is not None else not match["bottom"]
    return Ranking(_entity(match["what"]), _limit(match, DEFAULT_LIMIT), descending)


def _most_verbed(scan: Scan) -> Ranking | None:
    match = next(iter(scan.take(_MOST_VERBED)), None)
    if match is None:
        return None
    default = 1 if not match["what"].lower().endswith("s") else DEFAULT_LIMIT
    counter = {"viewed": "views", "liked": "likes", "commented": "comments"}.get(
        match["counter"].lower(), "reports"
    )
    descending = match["most"].lower() == "most"
    return Ranking("video", _limit(match, default), descending, f"{counter}_count")


def _most_verbed_ru(scan: Scan) -> Ranking | None:
    match = next(iter(scan.take(_MOST_VERBED_RU)), None)
    if match is None:
        return None
    word = match["counter"].lower()
    counter = next(name for stem, name in _RU_COUNTERS if word.startswith(stem))
    return Ranking("video", 1, match["most"] is not None, f"{counter}_count")


def _which(scan: Scan) -> Ranking | None:
    if not (scan.has(_MOST) or scan.has(_LEAST)):
        return None
    match = next(iter(scan.take(_WHICH)), None)
    if match is None:
        return None
    direction = _direction(scan)
    english = match["one"] is not None and match["one"].isascii()
    many = match["many"] or (english and match["what"].lower().endswith("s"))
    limit = _limit(match, DEFAULT_LIMIT if many else 1)
    return Ranking(_entity(match["what"]), limit, bool(direction))


def _who(scan: Scan) -> Ranking | None:
    if not (scan.has(_MOST) or scan.has(_LEAST)) or not scan.take(_WHO):
        return None
    return Ranking("user", 1, bool(_direction(scan)))


def take_ranking(scan: Scan) -> Ranking | None:
    """The ranking the question asks for (its phrases taken from ``scan``), or None.

    Raises :class:`Unclear`: "limit" for a size outside 1..MAX_GROUPS, "unknown" for "most"
    and "least" together.
    """
    return _top(scan) or _most_verbed(scan) or _most_verbed_ru(scan) or _which(scan) or _who(scan)


def take_series(scan: Scan) -> Dimension | None:
    """The grain of the series asked for ("per day": DAY, "hourly": HOUR), or None.

    Raises :class:`Unclear` ("dates") when both grains are asked for.
    """
    found = [grain for grain, pattern in _SERIES if scan.take(pattern)]
    if len(found) > 1:
        raise Unclear("dates")
    return found[0] if found else None
