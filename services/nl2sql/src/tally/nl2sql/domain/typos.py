"""Typos within reason: a word one edit away from a key word of five letters or more.

Candidates are shortlisted with :func:`difflib.get_close_matches` (the standard library)
and then confirmed by the optimal-string-alignment distance, so "veiws" reads as "views"
(two letters swapped) and "просмотов" as "просмотров" (a letter missing), while "reviews"
(two edits) does not.
"""

from collections.abc import Mapping
from difflib import get_close_matches
from typing import Final

MIN_LENGTH: Final = 5
"""Shorter words are never corrected: one edit turns too many short words into others."""


def _one_swap(word: str, other: str) -> bool:
    """Same length, differing only by two neighbouring letters swapped."""
    diffs = [i for i, (a, b) in enumerate(zip(word, other, strict=True)) if a != b]
    return len(diffs) == 2 and diffs[1] == diffs[0] + 1 and word[diffs[0]] == other[diffs[1]]


def _one_gap(longer: str, shorter: str) -> bool:
    """``shorter`` is ``longer`` with one letter left out."""
    index = next(
        (i for i, (a, b) in enumerate(zip(longer, shorter, strict=False)) if a != b), len(shorter)
    )
    return longer[index + 1 :] == shorter[index:]


def one_edit(word: str, other: str, *, substitution: bool) -> bool:
    """Whether ``word`` becomes ``other`` by one swap of neighbours, one letter left out or
    added, or (when ``substitution``) one letter replaced. Equal words are not one edit."""
    if word == other or abs(len(word) - len(other)) > 1:
        return False
    if len(word) != len(other):
        longer, shorter = (word, other) if len(word) > len(other) else (other, word)
        return _one_gap(longer, shorter)
    differing = sum(a != b for a, b in zip(word, other, strict=True))
    return _one_swap(word, other) or (substitution and differing == 1)


def correction(word: str, vocabulary: Mapping[str, str], *, substitution: bool) -> str | None:
    """What ``vocabulary`` maps to for the key word ``word`` is a typo of, or None.

    ``vocabulary`` maps key words (lowercase) to what they mean. ``word`` must have at least
    :data:`MIN_LENGTH` letters and start with the same letter as the key word; None when
    no key word qualifies, or when those that do mean different things.
    """
    if len(word) < MIN_LENGTH:
        return None
    shortlist = get_close_matches(word, vocabulary, n=10, cutoff=0.75)
    meanings = {
        vocabulary[other]
        for other in shortlist
        if other[0] == word[0] and one_edit(word, other, substitution=substitution)
    }
    return meanings.pop() if len(meanings) == 1 else None
