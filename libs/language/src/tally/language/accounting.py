"""Every word of a question accounted for: the rule that makes a silently dropped word impossible.

A plan is accepted only when each word of the question was either taken by a construct the
parser read (a date, an id, a comparison, a measure, an entity, a grouping...) or is on the
reviewed list of function words below. Any other word means the parser did not read the
whole question: it refuses, naming the words it could not place ("trending", "median",
"субботам"), instead of answering a question it did not ask.

The lists hold words that never change what is counted: articles, prepositions that the
constructs do not read, auxiliaries, politeness, and words naming the data as a whole ("in
the system"). Negations ("not", "без", "кроме"), quantifiers ("only", "each") and every
adjective are deliberately absent.
"""

import re
from collections.abc import Iterable
from functools import lru_cache
from itertools import islice
from typing import Final

from tally.language import morphology
from tally.language.lexicon import lookup
from tally.language.scan import Scan, Unclear


def _listed(text: str) -> frozenset[str]:
    return frozenset(text.split())


# fmt: off
ENGLISH: Final = _listed("""
    a an the this that these those there here it its
    and but in on at of for to by from with into within during throughout across per
    where whose
    is are was were be been being am do does did done have has had having
    will would can could should shall may might must
    how what whats many much number amount count total overall altogether combined sum
    all any
    me us we our you your i my they them their
    please tell show give know want need see find
    so far currently now exactly precisely
    system platform database data dataset stats statistics table tables s
    exist exists existing stored recorded tracked registered available present counted
    taken made captured one single
""")
"""English function words (lower case)."""

RUSSIAN: Final = _listed("""
    в во на за по с со у к ко из о об про при для через
    где один одна одно одного одном одной одну чему чего равен равна равно равны
    и а но же ли то это этот эта эти эту этом этой этого этих наш наша наше наши нашем нашей
    был была было были быть есть будет будут является являются
    сколько какое какой какая каков какова каково каковы всего итого всех все всё весь вся
    мне нам нас вы вас я мы они их его ее её
    пожалуйста скажи скажите покажи покажите подскажи подскажите назови назовите узнать хочу
    сейчас сегодняшний текущий момент
    системе система систему базе база данных данные статистике статистика платформе платформа
    имеется имеются существует существуют хранится хранятся зарегистрировано зафиксировано
    значение число количество общее общий общая суммарное суммарно
""")
"""Russian function words (lower case, "ё" read as "е" too)."""
# fmt: on

RUSSIAN_LEMMAS: Final = _listed("""
    иметь быть являться существовать храниться находиться содержаться насчитываться числиться
    зарегистрировать зафиксировать учитываться который сделать делать снять составлять составить
""")
"""Russian verbs that only say the data is there ("имеют", "насчитывается"): a word counts as
one when it is a form of one of them."""

FUNCTION_WORDS: Final = ENGLISH | RUSSIAN | {w.replace("ё", "е") for w in RUSSIAN}


def is_function_word(word: str) -> bool:
    """Whether ``word`` (lower case) is on the reviewed lists, by itself or by its lemmas."""
    if word in FUNCTION_WORDS:
        return True
    return bool(_CYRILLIC.search(word)) and word in _russian_lemma_forms()


@lru_cache(maxsize=1)
def _russian_lemma_forms() -> frozenset[str]:
    """Every form of every word of :data:`RUSSIAN_LEMMAS` (a lookup, not an analysis)."""
    return frozenset(form for lemma in RUSSIAN_LEMMAS for form in morphology.inflections(lemma))


_WORD: Final = re.compile(r"[^\W\d_]+|\d+")
_CYRILLIC: Final = re.compile(r"[а-я]")


NAMED: Final = 5
"""Most words a refusal names (and the most looked for)."""


def unplaced(scan: Scan) -> list[str]:
    """The first :data:`NAMED` words left in ``scan`` (not taken) that are not function
    words, in order."""
    return list(
        islice((w for w in _WORD.findall(scan.text.lower()) if not is_function_word(w)), NAMED)
    )


def require_all_placed(scan: Scan) -> None:
    """Raise :class:`Unclear` ("unplaced", with the leftover words) when a word of ``scan`` is
    neither taken nor a function word."""
    left = unplaced(scan)
    if left:
        raise Unclear("unplaced", words=tuple(left))


def as_written(question: str, left: Iterable[str]) -> list[str]:
    """The words of ``question`` that became the leftover words ``left`` (after key words
    were rewritten to their canonical English word), as written; each once, in order.
    Found by lookups only, so a long question costs no analysis; a leftover word found in
    no other way is named as it was left."""
    wanted = set(left)
    found: list[str] = []
    for word in dict.fromkeys(_WORD.findall(question)):
        lower = word.lower().replace("ё", "е")
        if lower in wanted or (lookup(lower) or "") in wanted:
            found.append(word)
            wanted.discard(lower)
            wanted.discard(lookup(lower) or "")
    return found + sorted(wanted)
