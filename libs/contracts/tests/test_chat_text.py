"""The counting rules live capture and history import share."""

from tally.contracts.chat_events import MAX_TEXT
from tally.contracts.chat_text import entity_counts, kept_text, word_count


def test_entities_are_counted_by_their_bot_api_names() -> None:
    """url and text_link are links, mention and text_mention mentions; bold counts nowhere."""
    kinds = ["url", "text_link", "mention", "text_mention", "hashtag", "bold", "hashtag"]
    assert entity_counts(kinds) == (2, 2, 2)
    assert entity_counts([]) == (0, 0, 0)


def test_words_need_a_letter_or_digit() -> None:
    assert word_count("see — 👍 it 42") == 3


def test_text_is_kept_only_when_stored_and_not_empty() -> None:
    assert kept_text("hi", False) is None
    assert kept_text("", True) is None
    assert kept_text("x" * (MAX_TEXT + 1), True) == "x" * MAX_TEXT
