"""Key words in English and Russian, read into one canonical English word each.

Before the question is scanned, every word that names something the parser knows is
rewritten to its canonical word: Russian words by lemma (pymorphy3), so "роликов",
"видосы" and "видео" all become "videos", "креатору" and "автора" become "creator",
"выросли" and "прирост" become "growth"; misspelt key words by one edit ("veiws" ->
"views", "просмотов" -> "views"). The regexes of :mod:`vocabulary` then only need the
canonical words and the short Russian function words (``больше``, ``не менее``, ``за``).
The words for counters, entities and concepts come from the semantic catalog
(:func:`tally.common.semantic.catalog`); aggregates, lists and refusals are the parser's own.
"""

import re
from functools import lru_cache
from typing import Final

from tally.common.semantic import catalog
from tally.nl2sql.domain import morphology
from tally.nl2sql.domain.typos import MIN_LENGTH, correction

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
    **dict.fromkeys(("average", "maximum", "minimum", "total", "distinct"), ""),
}
"""English key words: they stay as written; a misspelling of one becomes the key word."""
# fmt: on

_ENGLISH_KEYS: Final = {key: key for key in ENGLISH}
_CYRILLIC: Final = re.compile(r"[а-яё]", re.IGNORECASE)
_WORD: Final = re.compile(r"\b[^\W\d_]+\b")
"""A word of letters only: ids like ``abc123`` are never rewritten."""


@lru_cache(maxsize=1)
def _russian_lemmas() -> dict[str, str]:
    return {lemma: canonical for canonical, lemmas in RUSSIAN.items() for lemma in lemmas}


@lru_cache(maxsize=1)
def _russian_forms() -> dict[str, str]:
    """Every inflected form of every Russian key word, with its canonical word."""
    return {
        form: canonical
        for lemma, canonical in _russian_lemmas().items()
        for form in morphology.inflections(lemma)
    }


def _russian(word: str) -> str | None:
    lemmas = _russian_lemmas()
    # The word itself counts as a reading: pymorphy3 guesses "снапшота" as the lemma of "снапшот".
    readings = morphology.normal_forms(word) | {word}
    found = {lemmas[lemma] for lemma in readings if lemma in lemmas}
    if len(found) == 1:
        return found.pop()
    if found or morphology.is_known(word):
        return None
    return correction(word, _russian_forms(), substitution=True)


def _english(word: str) -> str | None:
    if word in ENGLISH:
        return None
    corrected = correction(word, _ENGLISH_KEYS, substitution=False)
    return corrected and (ENGLISH[corrected] or corrected)


@lru_cache(maxsize=65_536)
def canonical(word: str) -> str | None:
    """The canonical word for ``word`` (any case), or None when it is not a key word or is
    already one. Russian: by lemma, else one edit from a form of a key word when the word
    is not in the dictionary; English: one swap, missing or extra letter from a key word."""
    lower = word.lower()
    return _russian(lower) if _CYRILLIC.search(lower) else _english(lower)


def canonicalize(text: str) -> str:
    """``text`` with each key word replaced by its canonical word (other text untouched)."""
    return _WORD.sub(lambda match: canonical(match.group()) or match.group(), text)
