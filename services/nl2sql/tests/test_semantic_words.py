"""The built-in parser reads every word of the semantic catalog as the term it belongs to."""

import pytest

from tally.language import vocabulary
from tally.language.lexicon import ENGLISH, RUSSIAN, canonical
from tally.language.typos import MIN_LENGTH
from tally.semantic import catalog

SYNONYMS = catalog().synonyms
ENTITIES = {
    "video": vocabulary.VIDEO,
    "creator": vocabulary.CREATOR,
    "snapshot": vocabulary.SNAPSHOT,
    "message": vocabulary.MESSAGE,
    "user": vocabulary.PERSON,
    "chat": vocabulary.CHAT,
}
CONCEPTS = {
    "growth": vocabulary.GROWTH,
    "decline": vocabulary.DECLINE,
    "published": vocabulary.PUBLISHED,
    "joined": vocabulary.JOINED,
    "left": vocabulary.LEFT,
    "wrote": vocabulary.WROTE,
}
RUSSIAN_WORDS = [(term, lemma) for term, synonym in SYNONYMS.items() for lemma in synonym.ru]
ENGLISH_WORDS = [(term, word) for term, synonym in SYNONYMS.items() for word in synonym.en]


def _read_as(term: str, word: str) -> bool:
    """Whether the parser's pattern for what ``term`` names matches the whole ``word``."""
    synonym = SYNONYMS[term]
    if synonym.counter is not None:
        match = vocabulary.COUNTER.fullmatch(word)
        return bool(match and match[synonym.counter])
    if synonym.entity is not None:
        return bool(ENTITIES[synonym.entity].fullmatch(word))
    assert synonym.concept is not None
    return bool(CONCEPTS[synonym.concept].fullmatch(word))


def _swapped(word: str) -> str:
    """``word`` with its first two differing neighbours after the first letter swapped."""
    i = next(i for i in range(1, len(word) - 1) if word[i] != word[i + 1])
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


@pytest.mark.parametrize("term", list(SYNONYMS))
def test_every_term_is_what_the_parser_reads(term: str) -> None:
    """A term is itself matched by the parser's pattern for its counter, entity or concept."""
    assert _read_as(term, term)


@pytest.mark.parametrize(("term", "lemma"), RUSSIAN_WORDS)
def test_russian_lemmas_read_as_their_term(term: str, lemma: str) -> None:
    """Each Russian lemma of the catalog is rewritten to its term: "ролик" -> "videos"."""
    assert canonical(lemma) == term


@pytest.mark.parametrize(("term", "word"), ENGLISH_WORDS)
def test_english_words_read_as_their_term(term: str, word: str) -> None:
    """Each English synonym stays as written and the parser reads it as its term ("clips"
    as a video); one with two letters swapped is rewritten to the term ("cilps")."""
    assert canonical(word) is None
    assert _read_as(term, word)
    if len(word) >= MIN_LENGTH:
        assert canonical(_swapped(word)) == term


def test_the_lexicons_own_words_keep_clear_of_the_catalog() -> None:
    """No Russian lemma is listed twice, and no word of the parser's own overrides a
    catalog synonym."""
    lemmas = [lemma for words in RUSSIAN.values() for lemma in words]
    assert len(lemmas) == len(set(lemmas))
    catalog_words = {word: term for term, word in ENGLISH_WORDS if len(word) >= MIN_LENGTH}
    assert {word: ENGLISH[word] for word in catalog_words} == catalog_words
