"""Property test of the built-in parser: a word it did not read never leaves the plan as it was.

Take a question of the accuracy set that the parser answers with a plan, put one content
word into it at a word boundary (a real English or Russian word such as "trending",
"median", "вирусных", "выходные", or a made-up string of 5-10 letters that is no typo of a
key word), and parse it again.
A content word changes what is asked, so the parser must read it (a different plan) or not
answer with the same plan: refusing or asking back is fine, the original plan is not.
Pure parse calls, no database; Hypothesis is derandomized so every run tries the same cases.
"""

from functools import cache
from typing import Final

from hypothesis import given, settings
from hypothesis import strategies as st

from tally.language import Readings, Refusal, parse
from tally.language.lexicon import canonicalize
from tally.semantic.plan import QueryPlan
from tests.accuracy.questions import ANSWERABLE, TODAY

CONTENT_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "en": (
        "trending",
        "weekend",
        "median",
        "viral",
        "deleted",
        "popular",
        "short",
        "long",
        "private",
        "hidden",
        "archived",
        "sponsored",
        "music",
        "funny",
        "vertical",
        "featured",
        "monetized",
        "verified",
        "blocked",
        "pinned",
        "paid",
        "subtitled",
        "morning",
        "night",
        "mobile",
        "English",
        "live",
        "duplicate",
        "edited",
        "premium",
    ),
    "ru": (
        "вирусных",
        "удалённых",
        "медианное",
        "выходные",
        "популярных",
        "коротких",
        "длинных",
        "скрытых",
        "платных",
        "рекламных",
        "музыкальных",
        "смешных",
        "новогодних",
        "закреплённых",
        "заблокированных",
        "архивных",
        "утренних",
        "вечерних",
        "ночных",
        "озвученных",
        "мобильных",
        "английских",
        "трендовых",
        "спонсорских",
        "вертикальных",
        "оригинальных",
        "премиальных",
        "детских",
        "медианный",
        "будних",
    ),
}
"""Real words that are not function words, each of which changes what a question asks."""

LETTERS: Final = {"en": "abcdefghijklmnopqrstuvwxyz", "ru": "абвгдежзийклмнопрстуфхцчшщъыьэюя"}
"""The alphabets of the made-up words, by the question's language."""


@cache
def answered() -> dict[str, QueryPlan]:
    """The questions of the accuracy set the parser answers with one plan, by their text,
    with that plan (its interpretation left out)."""
    plans = ((case.text, parse_as(case.language, case.text)) for case in ANSWERABLE)
    return {
        text: plan.model_copy(update={"interpretation": ""})
        for text, plan in plans
        if isinstance(plan, QueryPlan)
    }


def parse_as(language: str, text: str) -> QueryPlan | Readings | Refusal:
    return parse(text, language=language, today=TODAY)  # type: ignore[arg-type]


_LANGUAGES: Final = {case.text: case.language for case in ANSWERABLE}


_NAMED: Final = {"en": "'{}'", "ru": "«{}»"}
"""How a refusal quotes the words it could not read, by language."""


def _made_up(word: str, language: str) -> bool:
    """A string the parser does not read at all: not a key word's typo ("repor" is "reports"
    one letter short: read, and the same counter again), not a key word itself ("video"), and
    not a form a key word's pattern takes ("publishaa" is read as "publish…"). Asked alone,
    it is refused by name."""
    if canonicalize(word) != word:
        return False
    alone = parse_as(language, word)
    return isinstance(alone, Refusal) and _NAMED[language].format(word) in alone.reason


@st.composite
def with_a_word(draw: st.DrawFn) -> tuple[str, str, str]:
    """An answered question's language and text, and its text with one content word put in
    at a word boundary."""
    question = draw(st.sampled_from(sorted(answered())))
    language = _LANGUAGES[question]
    word = draw(
        st.sampled_from(CONTENT_WORDS[language])
        | st.text(alphabet=LETTERS[language], min_size=5, max_size=10).filter(
            lambda word: _made_up(word, language)
        )
    )
    words = question.split()
    at = draw(st.integers(min_value=0, max_value=len(words)))
    return language, question, " ".join([*words[:at], word, *words[at:]])


def test_both_languages_have_answered_questions() -> None:
    """The property below draws from English and Russian questions alike."""
    assert {_LANGUAGES[text] for text in answered()} == {"en", "ru"}


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(with_a_word())
def test_an_unread_word_never_leaves_the_plan_unchanged(changed: tuple[str, str, str]) -> None:
    """Putting a content word into an answered question never yields the original plan:
    the parser refuses, asks back, or answers with a different plan."""
    language, question, text = changed
    result = parse_as(language, text)
    if isinstance(result, QueryPlan):
        assert result.model_copy(update={"interpretation": ""}) != answered()[question], (
            f"{text!r} got the plan of {question!r}: {result.interpretation}"
        )
