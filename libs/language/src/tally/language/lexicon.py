"""Key words in English and Russian, read into one canonical English word each.

Before the question is scanned, every word that names something the parser knows is
rewritten to its canonical word: Russian words by lemma (pymorphy3), so "роликов",
"видосы" and "видео" all become "videos", "креатору" and "автора" become "creator",
"выросли" and "прирост" become "growth"; misspelt key words by one edit ("veiws" ->
"views", "просмотов" -> "views"). The regexes of :mod:`vocabulary` then only need the
canonical words and the short Russian function words (``больше``, ``не менее``, ``за``).
The words for counters, entities and concepts come from the semantic catalog
(:func:`tally.semantic.catalog`); aggregates, lists and refusals are the parser's own.
"""

import re
from functools import lru_cache
from typing import Final

from tally.language import morphology
from tally.language.typos import MIN_LENGTH, TypoIndex, correction
from tally.semantic import catalog

_CATALOG: Final = catalog()

# fmt: off
RUSSIAN: Final[dict[str, tuple[str, ...]]] = {
    # canonical word: the Russian lemmas (dictionary forms) that mean it. Counters, entities
    # (videos, creator, snapshots) and concepts (growth, grew, decreased, published, ...) come
    # from the semantic catalog; the words below are the parser's own.
    **_CATALOG.russian_lemmas(),
    "new": ("новый",),
    "delta": ("дельта", "изменение"),
    "got": ("набрать", "набирать", "получить", "получать", "собрать", "собирать"),
    "sum": ("сумма", "суммарный", "суммарно", "общий", "суммировать"),
    "average": ("средний", "среднее"),
    "median": ("медиана", "медианный", "медианное"),
    # pymorphy3 reads "наибольший" as a form of "больший" and "наименьший" of "малый"
    "maximum": ("максимальный", "максимум", "больший", "рекорд", "рекордный"),
    "minimum": ("минимальный", "минимум", "малый"),
    "count": ("количество", "число"),
    "each": ("каждый",),
    "list": ("список", "перечень", "перечислить"),
    "ranking": ("рейтинг",),
    "show": ("показать", "показывать", "вывести", "выводить"),
    "delete": (
        "удалить", "удалять", "стереть", "стирать", "очистить", "очищать", "обновить",
        "обновлять", "вставить", "вставлять", "изменить", "изменять", "заменить",
        "уничтожить", "сбросить", "дропнуть", "добавить", "добавлять", "записать",
    ),
    "ignore": (
        "игнорировать", "проигнорировать", "забыть", "инструкция", "промпт", "притвориться",
        "пароль", "токен",
    ),
}
ENGLISH: Final[dict[str, str]] = {
    # key words worth correcting (five letters or more): the canonical word of each.
    # The catalog's synonyms ("clips" -> "videos", "increased" -> "gained"), then the
    # parser's own: participles of counters and aggregate words that stand for themselves.
    **{
        word: term
        for word, term in _CATALOG.english_words().items()
        if len(word) >= MIN_LENGTH
    },
    "viewed": "views",
    "liked": "likes",
    "commented": "comments",
    **dict.fromkeys(("average", "maximum", "minimum", "median", "total", "distinct"), ""),
}
"""English key words: they stay as written; a misspelling of one becomes the key word."""
# fmt: on

_ENGLISH_KEYS: Final = TypoIndex.of({key: key for key in ENGLISH})
_CYRILLIC: Final = re.compile(r"[а-яё]", re.IGNORECASE)
_WORD: Final = re.compile(r"\b[^\W\d_]+\b")
"""A word of letters only: ids like ``abc123`` are never rewritten."""


@lru_cache(maxsize=1)
def _russian_lemmas() -> dict[str, str]:
    return {lemma: canonical for canonical, lemmas in RUSSIAN.items() for lemma in lemmas}


@lru_cache(maxsize=1)
def _russian_forms() -> TypoIndex:
    """Every inflected form of every Russian key word, with its canonical word; a form of
    key words with different meanings ("больше"?) maps to "" (not rewritten)."""
    meanings: dict[str, str] = {}
    for lemma, canonical in _russian_lemmas().items():
        for form in morphology.inflections(lemma) | {lemma}:
            meanings[form] = canonical if meanings.get(form, canonical) == canonical else ""
    return TypoIndex.of(meanings)


def _russian(word: str) -> str | None:
    """A form of a key word, by dictionary lookup (no analysis)."""
    return _russian_forms().meanings.get(word) or None


@lru_cache(maxsize=65_536)
def _russian_unknown(word: str) -> str | None:
    """For a word the dictionary does not know: a key word by its predicted lemma
    ("креатору" -> "creator"), else a typo one edit from a form of one."""
    lemmas = _russian_lemmas()
    found = {lemmas[lemma] for lemma in morphology.normal_forms(word) | {word} if lemma in lemmas}
    if found:
        return found.pop() if len(found) == 1 else None
    return correction(word, _russian_forms(), substitution=True) or None


def _english(word: str) -> str | None:
    if word in ENGLISH:
        return None
    corrected = correction(word, _ENGLISH_KEYS, substitution=False)
    return corrected and (ENGLISH[corrected] or corrected)


MAX_ANALYSED: Final = 8
"""Words of one question that are analysed further when the dictionaries do not know them
(pymorphy3's prediction, about 0.75 ms a word, and typo correction); later unknown words stay
as written, so the parser refuses them. It bounds the worst case (2,000 characters of made-up
words) at a few milliseconds: see BENCHMARKS.md, "parser, worst case"."""


@lru_cache(maxsize=65_536)
def canonical(word: str) -> str | None:
    """The canonical word for ``word`` (any case), or None when it is not a key word or is
    already one. Russian: a form of a key word; for a word the dictionary does not know, by
    its predicted lemma, else one edit from a form of a key word. English: one swap, missing
    or extra letter from a key word."""
    lower = word.lower()
    if not _CYRILLIC.search(lower):
        return _english(lower)
    found = _russian(lower)
    if found or morphology.is_known(lower):
        return found
    return _russian_unknown(lower)


def lookup(lower: str) -> str | None:
    """The canonical word for a lowercase ``lower`` found by lookup alone (a form of a Russian
    key word, or an English key word's one-edit typo): no morphological analysis."""
    return _russian(lower) if _CYRILLIC.search(lower) else _english(lower)


def _needs_analysis(lower: str) -> bool:
    """A Russian word neither a form of a key word nor in the dictionary."""
    return lower not in _russian_forms().meanings and not morphology.is_known(lower)


def canonicalize(text: str) -> str:
    """``text`` with each key word replaced by its canonical word (other text untouched);
    at most :data:`MAX_ANALYSED` Russian words unknown to the dictionary are analysed."""
    budget = MAX_ANALYSED

    def replace(match: re.Match[str]) -> str:
        nonlocal budget
        word = match.group()
        lower = word.lower()
        if not _CYRILLIC.search(lower):
            return _english(lower) or word  # an index lookup: cheap
        if not _needs_analysis(lower):
            return _russian(lower) or word
        if budget == 0:
            return word
        budget -= 1
        return _russian_unknown(lower) or word

    return _WORD.sub(replace, text)
