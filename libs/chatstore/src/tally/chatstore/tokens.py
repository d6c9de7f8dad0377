"""Words and hashtags of a message's text, as the group reports count them (ingest counts
them into ``chat_words_daily`` and ``chat_hashtags_daily`` when it stores the text).

A word is a run of letters (with inner ``'`` or ``-``), lower-cased; links, ``@mentions`` and
``#hashtags`` are not words. A word with Cyrillic letters is Russian, one with Latin letters
English; others (Greek, Arabic, ...) are not counted. Stop words are those of the
``stop-words`` package (PyPI) for the language, and one-letter words are left out. A hashtag
is ``#`` then letters, digits or ``_``, not inside a word and not all digits, lower-cased.
"""

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from typing import get_args

from stop_words import get_stop_words  # type: ignore[import-untyped]  # no type information

from tally.contracts.events import Language

LANGUAGES: tuple[Language, ...] = get_args(Language)
NOT_WORDS = re.compile(r"https?://\S+|www\.\S+|[@#]\w+")
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
CYRILLIC = re.compile(r"[\u0400-\u04FF]")
LATIN = re.compile(r"[A-Za-z]")
HASHTAG = re.compile(r"(?<![\w#])#(\w+)")
"""A hashtag as Telegram marks one: ``#`` then letters, digits or ``_``, not inside a word."""


@lru_cache(maxsize=len(LANGUAGES))
def stop_words(language: Language) -> frozenset[str]:
    """The stop words of ``language``, lower case."""
    return frozenset(word.lower() for word in get_stop_words(language))


def language_of(word: str) -> Language | None:
    """``ru`` for a word with Cyrillic letters, ``en`` for one with Latin letters, else None."""
    if CYRILLIC.search(word):
        return "ru"
    return "en" if LATIN.search(word) else None


def count_words(texts: Iterable[str]) -> dict[Language, Counter[str]]:
    """Each language's words in ``texts`` and how often, stop words and one-letter words out."""
    counts: dict[Language, Counter[str]] = {language: Counter() for language in LANGUAGES}
    for text in texts:
        for word in WORD.findall(NOT_WORDS.sub(" ", text).lower()):
            language = language_of(word)
            if language and len(word) > 1 and word not in stop_words(language):
                counts[language][word] += 1
    return counts


def hashtags_in(text: str) -> list[str]:
    """The hashtags of ``text``, lower case, without ``#``, in order (repeats kept)."""
    return [tag.lower() for tag in HASHTAG.findall(text) if not tag.isdigit()]
