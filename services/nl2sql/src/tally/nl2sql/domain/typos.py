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
