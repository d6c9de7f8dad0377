"""Russian morphology through pymorphy3 and its OpenCorpora dictionary (``pymorphy3-dicts-ru``).

The analyzer is built once per process, on first use (about 0.15 s); every word's analysis
is cached, so a word seen before costs a dictionary lookup. Nothing is downloaded at run
time: the dictionary ships in the wheel.
"""

from functools import lru_cache

import pymorphy3  # type: ignore[import-untyped]  # pymorphy3 publishes no type information


@lru_cache(maxsize=1)
def _analyzer() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer(lang="ru")


@lru_cache(maxsize=65_536)
def normal_forms(word: str) -> frozenset[str]:
    """Every dictionary form (lemma) ``word`` may be an inflection of, lowercase.

    ``"просмотрами"`` -> ``{"просмотр"}``; ``"лайкам"`` -> ``{"лайк", "лайка", "лайкам"}``.
    Words missing from the dictionary get the lemmas pymorphy3 predicts by analogy
    (``"креатору"`` -> ``{"креатор", ...}``).
    """
    return frozenset(parse.normal_form for parse in _analyzer().parse(word.lower()))


@lru_cache(maxsize=65_536)
def is_known(word: str) -> bool:
    """Whether ``word`` is a form of a word in the dictionary (a misspelling is not)."""
    return bool(_analyzer().word_is_known(word.lower()))


@lru_cache(maxsize=1024)
def inflections(lemma: str) -> frozenset[str]:
    """Every form of ``lemma`` (all its readings): ``"лайк"`` -> ``{"лайк", "лайки", ...}``."""
    readings = [parse for parse in _analyzer().parse(lemma) if parse.normal_form == lemma]
    return frozenset(form.word for parse in readings for form in parse.lexeme)


@lru_cache(maxsize=4096)
def name_lemmas(word: str) -> frozenset[str]:
    """The dictionary forms of ``word`` read as a first name (pymorphy3's ``Name`` tag):
    ``"Анны"`` -> ``{"анна"}``; empty when no reading is a first name."""
    return frozenset(
        parse.normal_form for parse in _analyzer().parse(word.lower()) if "Name" in parse.tag
    )
