"""The most written words of a period, per language, for chats that store text.

Words are read from ``messages.text`` (``ix_messages_chat_sent``) and counted here: a word is
a run of letters (with inner ``'`` or ``-``), lower-cased; links, ``@mentions`` and
``#hashtags`` are not words. A word with Cyrillic letters is Russian, one with Latin letters
English; others (Greek, Arabic, ...) are not counted. Stop words are those of the
``stop-words`` package (PyPI) for the language, and one-letter words are left out.

When the chat does not store text the answer refuses: words are never estimated from word
counts or anything else.
"""

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from typing import get_args

from sqlalchemy import select
from stop_words import get_stop_words  # type: ignore[import-untyped]  # no type information

from tally.chatstore.read.connection import Database, fetch_all
from tally.chatstore.read.conversation import sent_in, stores_text
from tally.chatstore.read.errors import StatsRequestError
from tally.chatstore.read.periods import Period
from tally.chatstore.tables import MESSAGES
from tally.contracts.events import Language
from tally.contracts.group_reports import TopWords, WordCount

LANGUAGES: tuple[Language, ...] = get_args(Language)
TOP_WORDS = 20
NOT_WORDS = re.compile(r"https?://\S+|www\.\S+|[@#]\w+")
WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
CYRILLIC = re.compile(r"[\u0400-\u04FF]")
LATIN = re.compile(r"[A-Za-z]")
NO_TEXT = (
    "This chat does not store message text, so its words cannot be counted. "
    "An admin can turn text storage on in the chat's settings; words are counted from then on."
)


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


def _top(counter: Counter[str], limit: int) -> list[WordCount]:
    ranked = sorted(counter.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [WordCount(word=word, count=count) for word, count in ranked]


async def top_words(
    db: Database,
    chat_id: int,
    period: Period,
    language: Language | None = None,
    limit: int = TOP_WORDS,
) -> TopWords:
    """The ``limit`` most written words of chat ``chat_id`` in ``period`` for ``language``
    (both when None; ties alphabetical). A chat that does not store text gets a refusal
    (``text_stored`` False). Raises StatsRequestError for an unknown language or a limit
    outside 1..100."""
    if language is not None and language not in LANGUAGES:
        raise StatsRequestError(f"words are counted in {', '.join(LANGUAGES)}.")
    if not 1 <= limit <= 100:
        raise StatsRequestError("a top lists 1 to 100 words.")
    answer = {"chat_id": chat_id, "start": period.start, "end": period.end}
    if not await stores_text(db, chat_id):
        return TopWords(**answer, text_stored=False, refusal=NO_TEXT, words={})
    m = MESSAGES.c
    statement = select(m.text).where(*sent_in(MESSAGES, chat_id, period), m.text.is_not(None))
    counts = count_words(row["text"] for row in await fetch_all(db, statement))
    wanted = [language] if language else list(LANGUAGES)
    words = {name: _top(counts[name], limit) for name in wanted}
    return TopWords(**answer, text_stored=True, words=words)
