"""Typos within reason: a word one edit away from a key word of five letters or more.

Candidates come from an index of the key words by first letter and length (a word one edit
away has the same first letter, by rule, and a length within one), and are confirmed by the
optimal-string-alignment distance, so "veiws" reads as "views" (two letters swapped) and
"просмотов" as "просмотров" (a letter missing), while "reviews" (two edits) does not. A word
costs a few dictionary lookups and at most a few dozen comparisons, whatever the vocabulary.
"""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

MIN_LENGTH: Final = 5
"""Shorter words are never corrected: one edit turns too many short words into others."""


def _one_swap(word: str, other: str) -> bool:
    """Same length, differing only by two neighbouring letters swapped."""
    diffs = [i for i, (a, b) in enumerate(zip(word, other, strict=True)) if a != b]
    if len(diffs) != 2 or diffs[1] != diffs[0] + 1:
        return False
    first, second = diffs
    return word[first] == other[second] and word[second] == other[first]


def _one_gap(longer: str, shorter: str) -> bool:
    """``shorter`` is ``longer`` with one letter left out."""
    index = next(
        (i for i, (a, b) in enumerate(zip(longer, shorter, strict=False)) if a != b), len(shorter)
    )
    return longer[index + 1 :] == shorter[index:]


_ROWS: Final = ("йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю")
"""The Russian ЙЦУКЕН keyboard, row by row; each row sits half a key right of the one above."""
_VOWELS: Final = frozenset("аеёиоуыэюя")


def _keyboard_neighbours() -> dict[str, frozenset[str]]:
    position = {char: (row, col) for row, keys in enumerate(_ROWS) for col, char in enumerate(keys)}
    near: dict[str, set[str]] = {char: set() for char in position}
    for char, (row, col) in position.items():
        for other, (other_row, other_col) in position.items():
            same_row = other_row == row and abs(other_col - col) == 1
            below = other_row == row + 1 and other_col in (col - 1, col)
            if same_row or below:
                near[char].add(other)
                near[other].add(char)
    return {char: frozenset(chars) for char, chars in near.items()}


_NEIGHBOURS: Final = _keyboard_neighbours()


def likely_slip(a: str, b: str) -> bool:
    """Whether typing ``b`` for ``a`` is a likely typo: keys side by side on the ЙЦУКЕН
    keyboard, or two vowels (unstressed Russian vowels are the commonest spelling error:
    "просмАтров"). "репостов" for "репортов" (с for т) is neither: another word, not a typo."""
    return b in _NEIGHBOURS.get(a, frozenset()) or (a in _VOWELS and b in _VOWELS)


def one_edit(word: str, other: str, *, substitution: bool) -> bool:
    """Whether ``word`` becomes ``other`` by one swap of neighbours, one letter left out or
    added, or (when ``substitution``) one letter replaced by a :func:`likely_slip`. Equal
    words are not one edit."""
    if word == other or abs(len(word) - len(other)) > 1:
        return False
    if len(word) != len(other):
        longer, shorter = (word, other) if len(word) > len(other) else (other, word)
        return _one_gap(longer, shorter)
    differing = [(a, b) for a, b in zip(word, other, strict=True) if a != b]
    one_slip = substitution and len(differing) == 1 and likely_slip(*differing[0])
    return _one_swap(word, other) or one_slip


@dataclass(frozen=True, slots=True)
class TypoIndex:
    """Key words (lowercase) with what each means, indexed by (first letter, length)."""

    meanings: Mapping[str, str]
    buckets: Mapping[tuple[str, int], tuple[str, ...]]

    @classmethod
    def of(cls, meanings: Mapping[str, str]) -> "TypoIndex":
        buckets: defaultdict[tuple[str, int], list[str]] = defaultdict(list)
        for key in meanings:
            if key:
                buckets[key[0], len(key)].append(key)
        return cls(meanings, {bucket: tuple(keys) for bucket, keys in buckets.items()})

    def near(self, word: str) -> list[str]:
        """The key words with ``word``'s first letter and a length within one of it."""
        size = len(word)
        return [k for n in (size - 1, size, size + 1) for k in self.buckets.get((word[0], n), ())]


def correction(word: str, index: TypoIndex, *, substitution: bool) -> str | None:
    """What ``index`` maps to for the key word ``word`` is a typo of, or None.

    ``word`` (lowercase) must have at least :data:`MIN_LENGTH` letters and start with the
    same letter as the key word; None when no key word qualifies, or when those that do mean
    different things.
    """
    if len(word) < MIN_LENGTH:
        return None
    meanings = {
        index.meanings[other]
        for other in index.near(word)
        if one_edit(word, other, substitution=substitution)
    }
    return meanings.pop() if len(meanings) == 1 else None
