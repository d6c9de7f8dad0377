"""Every word of a question accounted for: a word the parser cannot place is named, not dropped."""

from datetime import date

import pytest

from tally.language import Refusal, parse
from tally.language.accounting import ENGLISH, RUSSIAN, RUSSIAN_LEMMAS, is_function_word

TODAY = date(2025, 12, 1)


@pytest.mark.parametrize(
    ("question", "language", "named"),
    [
        ("How many videos came out on holidays in November 2025?", "en", "holidays"),
        ("Сколько видео вышло в праздники в ноябре 2025?", "ru", "праздники"),
        ("How many trending videos got more than 100000 views?", "en", "trending"),
        ("Сколько вирусных видео набрало больше 100000 просмотров?", "ru", "вирусных"),
        ("How many videos have zero reports but plenty of likes?", "en", "plenty"),
        ("How many deleted videos are in the system?", "en", "deleted"),
    ],
)
def test_an_unknown_word_is_named_in_the_refusal(question: str, language: str, named: str) -> None:
    """The refusal quotes the word as the question wrote it, instead of answering without it."""
    result = parse(question, language=language, today=TODAY)  # type: ignore[arg-type]
    assert isinstance(result, Refusal), result
    assert named in result.reason


@pytest.mark.parametrize(
    "word",
    ["not", "no", "without", "except", "only", "each", "every", "never", "median", "unique"],
)
def test_english_lists_hold_no_word_that_changes_what_is_counted(word: str) -> None:
    """Negations, quantifiers and statistics are never function words."""
    assert word not in ENGLISH


@pytest.mark.parametrize("word", ["не", "без", "кроме", "ни", "только", "каждый", "медианный"])
def test_russian_lists_hold_no_word_that_changes_what_is_counted(word: str) -> None:
    """The same for Russian, by surface form and by lemma."""
    assert word not in RUSSIAN and word not in RUSSIAN_LEMMAS
    assert not is_function_word(word)


def test_a_russian_verb_of_being_is_read_by_its_lemma() -> None:
    """ "имеют", "насчитывается" are forms of verbs that only say the data is there."""
    assert is_function_word("имеют") and is_function_word("насчитывается")
    assert not is_function_word("удалены")
