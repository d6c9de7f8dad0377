# ruff: noqa: E501  # questions and their SQL fragments are quoted whole, one per line
"""Base questions and modifiers for the metamorphic test of the built-in parser.

A *base* is an answerable question of the public accuracy set (:mod:`tests.accuracy.questions`),
picked here by its text, with the reference SQL written there. A *modifier* rewrites a base
into a question that means something else: a weekday filter, a negation, an exclusion, a
second condition, a statistic in place of a total, an adjective the parser does not know, a
breakdown "per creator", a share, a part of a month. Each modifier declares the bases it fits
(a regex on the base's text, optionally one on its SQL, and words that rule a base out) and,
where the modified question has one right number, derives its reference SQL from the base's.

The rule checked with these pairs: a modified question is refused, asked back, or answered
with its own reference value when there is one, and never with the base question's value.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Final

from tests.accuracy.questions import ANSWERABLE, A, B, Case

Sql = tuple[str, tuple[object, ...]]
"""Reference SQL and its arguments."""
Gold = Callable[[str, tuple[object, ...]], Sql | None]
"""The reference SQL of a modified question from the base's, or None when it has none."""
Replacement = str | Callable[[re.Match[str]], str]


@dataclass(frozen=True, slots=True)
class Rule:
    """Where a modifier rewrites a question (the first match of ``pattern``) and into what
    (``re.sub`` replacement syntax, or a function of the match)."""

    pattern: re.Pattern[str]
    replacement: Replacement


@dataclass(frozen=True, slots=True)
class Modifier:
    """One way to change what a question asks, in one language.

    It fits a base of its language when one of its rules matches the base's text, ``sql``
    (if given) matches the base's reference SQL, and ``unless`` (if given) does not match
    the text. ``gold`` derives the modified question's reference SQL, where there is one.
    """

    name: str
    language: str
    rules: tuple[Rule, ...]
    sql: re.Pattern[str] | None = None
    unless: re.Pattern[str] | None = None
    gold: Gold | None = None

    def fits(self, base: Case) -> bool:
        if base.language != self.language:
            return False
        if self.sql is not None and not self.sql.search(base.sql):
            return False
        if self.unless is not None and self.unless.search(base.text):
            return False
        return any(rule.pattern.search(base.text) for rule in self.rules)

    def rewrite(self, base: Case) -> str:
        """The base's text changed by the first rule that matches it (first match only)."""
        rule = next(rule for rule in self.rules if rule.pattern.search(base.text))
        return rule.pattern.sub(rule.replacement, base.text, count=1)

    def reference(self, base: Case) -> Case | None:
        """The modified question with its reference SQL, or None when it has none here."""
        sql = self.gold(base.sql, base.args) if self.gold else None
        if sql is None:
            return None
        return Case(self.rewrite(base), self.language, sql[0], sql[1])


@dataclass(frozen=True, slots=True)
class Pair:
    """A base, a modifier that fits it, the modified text and its reference (if any)."""

    base: Case
    modifier: Modifier
    text: str
    gold: Case | None


# --- the bases --------------------------------------------------------------------------

BASE_TEXTS: Final = (
    # English
    "How many videos are in the system?",
    f"How many videos does creator {A} have?",
    "How many videos were published in November 2025?",
    "how many videos came out in Nov 2025",
    "How many videos were released in October 2025?",
    "How many videos were published between November 1-5, 2025?",
    "How many videos were published in September 2025?",
    "How many videos were published last week?",
    "How many videos got more than 100,000 views?",
    "How many videos have at least 500 likes?",
    "How many videos have at most 100 comments?",
    "How many videos published in November 2025 have more than 50,000 views?",
    f"How many videos from creator {B} were published in November 2025?",
    "How many videos have more than 100000 views and more than 5000 likes?",
    "what is the total number of likes?",
    "Total views?",
    "Total number of comments",
    "Total complaints across all videos?",
    f"total views of creator {A}",
    "How many likes do videos published in November 2025 have in total?",
    "What is the average number of views per video?",
    "What is the maximum number of views of a video?",
    "How many creators are there?",
    "How many creators published videos in November 2025?",
    "What was the total view growth on November 27, 2025?",
    "What was the total growth of views in November 2025?",
    "How many comments did videos gain from November 26 to November 28, 2025?",
    "How many videos gained views on November 28, 2025?",
    "How many snapshots had negative view deltas?",
    "How many snapshots are there?",
    # Russian
    "Сколько всего видео есть в системе?",
    f"Сколько видео у креатора с id {A}?",
    "Сколько видео опубликовано в ноябре 2025?",
    "сколько роликов вышло в ноябре 2025 года",
    "Сколько роликов опубликовали в октябре 2025?",
    "Сколько видео опубликовано с 01.11.2025 по 05.11.2025?",
    "Сколько видео опубликовано в сентябре 2025?",
    "Сколько видео опубликовано на прошлой неделе?",
    "сколько роликов набрали более 100 тыс просмотров",
    "Сколько видео имеют не меньше 500 лайков?",
    "Сколько видео имеют не более 100 комментариев?",
    "Сколько видео, опубликованных в ноябре 2025, набрали больше 50 000 просмотров?",
    f"Сколько видео креатора {B} опубликовано в ноябре 2025?",
    "Сколько видео набрали больше 100000 просмотров и больше 5000 лайков?",
    "Суммарное количество лайков?",
    "Сколько всего просмотров?",
    "общее количество комментариев",
    "Суммарное число жалоб",
    f"Сколько всего просмотров у видео креатора {A}?",
    "Сколько всего лайков у видео, опубликованных в ноябре 2025?",
    "Среднее число просмотров на видео?",
    "Какое максимальное число просмотров у видео?",
    "Сколько креаторов?",
    "Сколько креаторов опубликовали видео в ноябре 2025?",
    "Суммарный прирост просмотров 27.11.2025?",
    "Суммарный прирост просмотров в ноябре 2025?",
    "На сколько выросло число комментариев с 26 по 28 ноября 2025?",
    "Сколько разных видео получали новые просмотры 28 ноября 2025?",
    "Сколько замеров с отрицательным приростом просмотров?",
    "Сколько всего замеров?",
)
"""The bases, by their text in :data:`tests.accuracy.questions.ANSWERABLE`."""

_BY_TEXT: Final = {case.text: case for case in ANSWERABLE}
BASES: Final = [_BY_TEXT[text] for text in BASE_TEXTS]
"""The base questions with their reference SQL (a KeyError here: a text was reworded there)."""


# --- reference SQL of modified questions --------------------------------------------------


def _where(sql: str, condition: str) -> str:
    """``sql`` (one SELECT over one FROM) with ``condition`` added to its WHERE."""
    if " WHERE " in sql:
        return sql.replace(" WHERE ", f" WHERE {condition} AND ", 1)
    return f"{sql} WHERE {condition}"


def _time_column(sql: str) -> str:
    """The time the base's dates are about: the snapshot's, or the video's publication."""
    return "s.created_at" if "video_snapshots s" in sql else "video_created_at"


def weekdays(*days: int) -> Gold:
    """Only rows whose day (UTC) is one of ``days`` (ISO: Monday 1 .. Sunday 7)."""

    def gold(sql: str, args: tuple[object, ...]) -> Sql:
        listed = ", ".join(map(str, days))
        column = _time_column(sql)
        return _where(sql, f"extract(isodow FROM {column} AT TIME ZONE 'UTC') IN ({listed})"), args

    return gold


def restricted(condition: str) -> Gold:
    """Only rows of ``videos`` meeting ``condition`` as well."""

    def gold(sql: str, args: tuple[object, ...]) -> Sql:
        return _where(sql, condition), args

    return gold


_TOTAL_OR_MEAN: Final = re.compile(r"coalesce\(sum\(([\w.]+)\), 0\)|avg\(([\w.]+)\)")


def median(sql: str, args: tuple[object, ...]) -> Sql | None:
    """The median of the column the base adds up or averages."""
    if not _TOTAL_OR_MEAN.search(sql):
        return None
    return _TOTAL_OR_MEAN.sub(
        lambda m: f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {m[1] or m[2]})", sql, count=1
    ), args


_ONE_CONDITION: Final = re.compile(r"^(SELECT count\(\*\) FROM \w+) WHERE (.+)$")


def negated(sql: str, args: tuple[object, ...]) -> Sql | None:
    """Rows counted that do not meet the base's condition, when it has exactly one."""
    match = _ONE_CONDITION.match(sql)
    if match is None or " AND " in re.sub(r"BETWEEN \S+ AND \S+", "", match[2]):
        return None
    return f"{match[1]} WHERE NOT ({match[2]})", args


def percentage(sql: str, args: tuple[object, ...]) -> Sql:
    """The base's count of videos as a percentage of all videos."""
    return f"SELECT 100.0 * ({sql}) / (SELECT count(*) FROM videos)", args


def first_half_of_november(sql: str, args: tuple[object, ...]) -> Sql | None:
    """November 1-15 in place of the whole of November 2025."""
    end = date(2025, 11, 30)
    if "'2025-11-30'" not in sql and end not in args:
        return None
    changed = tuple(date(2025, 11, 15) if arg == end else arg for arg in args)
    return sql.replace("'2025-11-30'", "'2025-11-15'"), changed


# --- the modifiers ------------------------------------------------------------------------


def _rule(pattern: str, replacement: Replacement) -> Rule:
    return Rule(re.compile(pattern, re.IGNORECASE), replacement)


def _capitalized(word: str) -> Callable[[re.Match[str]], str]:
    """``word``, capitalized when the matched word was."""
    return lambda match: word.capitalize() if match[0][0].isupper() else word


_MEDIAN_RU: Final = {"ый": "медианный", "ое": "медианное", "ее": "медианное"}


def _median_ru(match: re.Match[str]) -> str:
    word = _MEDIAN_RU[match[0][-2:].lower()]
    return word.capitalize() if match[0][0].isupper() else word


# Where a period is named ("in November 2025", "between ...", "last week", "с 1 по 5 ...").
_EN_PERIOD = (
    r"(?=\b(?:in|during|between|from) (?:November|Nov|October|Oct|September|Sept)\b|\blast week\b)"
)
_RU_PERIOD = r"(?=\b(?:в|за) (?:ноябре|ноябрь|октябре|октябрь|сентябре|сентябрь)\b|\bс \d{1,2}(?:\.\d\d\.\d{4})? по\b|\bна прошлой неделе\b)"
_COUNT_OF_VIDEOS = re.compile(r"^SELECT count\((?:\*\) FROM videos\b|DISTINCT s\.video_id\))")
_OF_VIDEOS = re.compile(r"\bFROM videos\b(?!.*\bJOIN\b)")
_EN_CREATOR = re.compile(r"\b(?:creator|author|blogger)s?\b", re.IGNORECASE)
_RU_CREATOR = re.compile(r"\b(?:креатор|автор|блогер)\w*", re.IGNORECASE)
_EN_NOUNS = r"\b(?<!per )(?<!of a )(videos|creators)\b"
_RU_NOUNS = (
    r"\b(сколько(?: всего| разных)?|у(?: всех)?|количество) (видео|роликов|видосов|креаторов)\b"
)


def _adjectives(language: str, words: tuple[str, ...], nouns: str) -> list[Modifier]:
    return [
        Modifier(
            f"adjective {word}",
            language,
            (_rule(nouns, rf"\1 {word} \2" if language == "ru" else rf"{word} \1"),),
        )
        for word in words
    ]


MODIFIERS: Final = [
    # a weekday or the weekend, inside the period the base names
    Modifier("on Saturdays", "en", (_rule(_EN_PERIOD, "on Saturdays "),), gold=weekdays(6)),
    Modifier("on weekends", "en", (_rule(_EN_PERIOD, "on weekends "),), gold=weekdays(6, 7)),
    Modifier("по субботам", "ru", (_rule(_RU_PERIOD, "по субботам "),), gold=weekdays(6)),
    Modifier("в выходные", "ru", (_rule(_RU_PERIOD, "в выходные "),), gold=weekdays(6, 7)),
    # a statistic in place of a total or a mean
    Modifier(
        "median",
        "en",
        (
            _rule(
                r"\b(?:total|average)\b(?= (?:number of (?:likes|comments|views)|views|complaints|view growth|growth of views))",
                _capitalized("median"),
            ),
        ),
        gold=median,
    ),
    Modifier(
        "медианное",
        "ru",
        (_rule(r"\b(?:суммарн(?:ое|ый)|общее|среднее)\b", _median_ru),),
        gold=median,
    ),
    # a negation before the verb
    Modifier(
        "not",
        "en",
        (
            _rule(
                r"\b(?:were|was) (?=published|released|uploaded|gained)|\bare (?=in the system)",
                r"\g<0>not ",
            ),
            _rule(r"\bhave (?=at|more|fewer|no more|exactly)", "do not have "),
            _rule(r"\bgot (?=more|less|over)", "did not get "),
            _rule(r"\bcame out\b", "did not come out"),
            _rule(r"\bgained (?=views|likes|comments)", "did not gain "),
            _rule(r"\bhad (?=negative)", "did not have "),
            _rule(r"\bpublished (?=videos)", "did not publish "),
        ),
        gold=negated,
    ),
    Modifier(
        "не",
        "ru",
        (_rule(r"\b(?:опубликовано|вышло|опубликовали|набрали|получали)\b", r"не \g<0>"),),
        gold=negated,
    ),
    # an exclusion of one creator
    *(
        Modifier(
            name,
            language,
            (_rule(r"\s*\??$", f"{phrase}?"),),
            sql=_OF_VIDEOS,
            unless=_EN_CREATOR if language == "en" else _RU_CREATOR,
            gold=restricted(f"creator_id <> '{A}'"),
        )
        for name, language, phrase in (
            ("excluding creator", "en", f", excluding creator {A}"),
            ("apart from creator", "en", f", apart from creator {A}'s videos"),
            ("кроме креатора", "ru", f", кроме креатора {A}"),
            ("за исключением креатора", "ru", f", за исключением видео креатора {A}"),
        )
    ),
    # a second condition
    Modifier(
        "with more than 1,000 comments",
        "en",
        (
            _rule(r"^(how many videos)\b", r"\1 with more than 1,000 comments"),
            _rule(
                r"^((?:what is the )?total (?:number of )?(?:likes|views|comments|complaints))(?=\??$)",
                r"\1 of videos with more than 1,000 comments",
            ),
        ),
        sql=_OF_VIDEOS,
        gold=restricted("comments_count > 1000"),
    ),
    Modifier(
        "больше 1000 комментариев",
        "ru",
        (
            _rule(r"^(сколько (?:видео|роликов))\b", r"\1 с более чем 1000 комментариями"),
            _rule(
                r"^(суммарное (?:количество|число) \w+|общее количество \w+|сколько всего просмотров)(?=\??$)",
                r"\1 у видео, у которых больше 1000 комментариев",
            ),
        ),
        sql=_OF_VIDEOS,
        gold=restricted("comments_count > 1000"),
    ),
    # adjectives the parser does not know
    *_adjectives("en", ("trending", "popular", "deleted"), _EN_NOUNS),
    *_adjectives("en", ("short",), r"\b(?<!per )(?<!of a )(videos)\b"),
    *_adjectives("ru", ("вирусных", "популярных", "удалённых"), _RU_NOUNS),
    *_adjectives("ru", ("коротких",), _RU_NOUNS.replace("|креаторов", "")),
    # a breakdown or a mean per creator
    Modifier(
        "per creator",
        "en",
        (_rule(r"\s*\??$", " per creator?"),),
        unless=re.compile(r"\bper\b|" + _EN_CREATOR.pattern, re.IGNORECASE),
    ),
    Modifier(
        "по креаторам",
        "ru",
        (_rule(r"\s*\??$", " по креаторам?"),),
        unless=re.compile(r"\bна видео\b|" + _RU_CREATOR.pattern, re.IGNORECASE),
    ),
    Modifier(
        "on average per creator",
        "en",
        (_rule(r"\s*\??$", " on average per creator?"),),
        unless=re.compile(r"\b(?:per|average)\b|" + _EN_CREATOR.pattern, re.IGNORECASE),
    ),
    Modifier(
        "в среднем на одного креатора",
        "ru",
        (_rule(r"\s*\??$", " в среднем на одного креатора?"),),
        unless=re.compile(r"\bна видео\b|\bсредн\w*|" + _RU_CREATOR.pattern, re.IGNORECASE),
    ),
    # a share in place of a count
    Modifier(
        "what percentage of",
        "en",
        (_rule(r"^how many videos\b", "What percentage of videos"),),
        sql=_COUNT_OF_VIDEOS,
        unless=re.compile(r"\bvideos published\b|" + _EN_CREATOR.pattern, re.IGNORECASE),
        gold=percentage,
    ),
    Modifier(
        "какой процент",
        "ru",
        (_rule(r"^сколько(?: разных)? (видео|роликов)\b", r"Какой процент \1"),),
        sql=_COUNT_OF_VIDEOS,
        unless=re.compile(r"\bвидео, опубликованных\b|" + _RU_CREATOR.pattern, re.IGNORECASE),
        gold=percentage,
    ),
    # a part of the month named
    Modifier(
        "first half of",
        "en",
        (_rule(r"\bin (November|Nov) 2025\b", r"in the first half of \1 2025"),),
        gold=first_half_of_november,
    ),
    Modifier(
        "первой половине",
        "ru",
        (_rule(r"\bв ноябре 2025\b", "в первой половине ноября 2025"),),
        gold=first_half_of_november,
    ),
]
"""Every modifier, English and Russian."""


def pairs() -> list[Pair]:
    """Every (base, modifier) pair where the modifier fits the base."""
    return [
        Pair(base, modifier, modifier.rewrite(base), modifier.reference(base))
        for base in BASES
        for modifier in MODIFIERS
        if modifier.fits(base)
    ]
