"""/watch in plain words, compiled into alert rules (pure: no broker, no database)."""

from datetime import UTC, datetime, timedelta

import pytest

from tally.alerts.domain.rules import MeasureSource, Rule
from tally.alerts.domain.watch import EXAMPLES, WatchRefusal, compile_watch, plural_ru
from tally.contracts.events import Language
from tally.semantic.plan import Aggregate, Dataset, Op

NOW = datetime(2026, 1, 10, 14, 37, tzinfo=UTC)
GROUP = -1_001_234_567_890
CREATOR = "aca1061a9d324ecf8c3fa2bb32d7be63"


def _compile(text: str, language: Language = "en", chat_id: int | None = GROUP) -> Rule:
    rule = compile_watch(text, language=language, chat_id=chat_id, timezone="UTC", now=NOW)
    assert isinstance(rule, Rule), rule
    return rule


def _source(rule: Rule) -> MeasureSource:
    assert isinstance(rule.source, MeasureSource)
    return rule.source


def _refusal(text: str, language: Language = "en", chat_id: int | None = GROUP) -> WatchRefusal:
    refusal = compile_watch(text, language=language, chat_id=chat_id, timezone="UTC", now=NOW)
    assert isinstance(refusal, WatchRefusal), refusal
    assert refusal.examples == EXAMPLES[language]
    return refusal


@pytest.mark.parametrize(
    ("text", "language"),
    [
        (f"/watch views of creator {CREATOR} grow more than 50,000 in an hour", "en"),
        (f"просмотры креатора {CREATOR} вырастут больше чем на 50 000 за час", "ru"),
        (f"views of creator {CREATOR} exceed 50k per hour", "en"),
        (f"прирост просмотров креатора {CREATOR} больше 50 тыс за час", "ru"),
    ],
)
def test_views_of_a_creator_grow(text: str, language: Language) -> None:
    """Views of a creator "growing" read the snapshots' delta column, summed over the hour,
    scoped to the creator (not to any chat)."""
    rule = _compile(text, language)
    source = _source(rule)
    plan = source.plan
    assert plan.dataset is Dataset.SNAPSHOTS
    assert (plan.measure.aggregate, plan.measure.column) == (Aggregate.SUM, "delta_views_count")
    assert [(f.column, f.op, f.value) for f in plan.filters] == [("creator_id", Op.EQ, CREATOR)]
    assert plan.group_by is None
    assert plan.time_range is not None and plan.time_range.column == "created_at"
    assert (plan.time_range.start, plan.time_range.end) == (NOW - timedelta(hours=1), NOW)
    assert (source.window_s, source.compare, source.offset_s, source.chat_id) == (
        3600,
        "value",
        None,
        None,
    )
    assert (rule.condition.op, rule.condition.threshold) == (">", 50_000)
    assert (rule.severity, rule.labels) == ("warning", {"kind": "watch"})


@pytest.mark.parametrize(
    ("text", "language", "offset_s", "threshold"),
    [
        ("/watch messages in this chat drop 50% below the same hour last week", "en", 604800, 0.5),
        ("messages in this chat drop 30% below the same hour yesterday", "en", 86400, 0.7),
        (
            "сообщения в этом чате упадут на 50% ниже того же часа на прошлой неделе",
            "ru",
            604800,
            0.5,
        ),
        ("сообщения в этом чате упадут на 25% ниже того же часа вчера", "ru", 86400, 0.75),
    ],
)
def test_messages_drop_below_an_earlier_hour(
    text: str, language: Language, offset_s: float, threshold: float
) -> None:
    """A drop of p% below the same hour a week or a day earlier is ``ratio < 1 - p/100``
    over an hour, in the chat the command was sent in."""
    rule = _compile(text, language)
    source = _source(rule)
    assert (source.plan.dataset, source.plan.measure.aggregate) == (
        Dataset.MESSAGES,
        Aggregate.COUNT,
    )
    assert (source.window_s, source.compare, source.offset_s, source.chat_id) == (
        3600,
        "ratio_to_offset",
        offset_s,
        GROUP,
    )
    assert rule.condition.op == "<"
    assert rule.condition.threshold == pytest.approx(threshold)


@pytest.mark.parametrize(
    ("text", "op", "threshold", "window_s"),
    [
        ("messages in this chat exceed 300 per hour", ">", 300, 3600),
        ("messages in this chat exceeds 1 000 per day", ">", 1000, 86400),
        ("messages in this chat rise above 300", ">", 300, 3600),
        ("messages in this chat fall below 10 in an hour", "<", 10, 3600),
        ("messages in this chat fall below 10 in 15 minutes", "<", 10, 900),
        ("messages in this chat grow more than 2k in 2 hours", ">", 2000, 7200),
        ("сообщений в этом чате больше 300 за час", ">", 300, 3600),
        ("сообщений в этом чате меньше 10 за сутки", "<", 10, 86400),
        ("сообщения в этом чате превысят 50 тыс за 15 минут", ">", 50_000, 900),
        ("когда сообщений в этом чате будет больше 300 в час", ">", 300, 3600),
    ],
)
def test_thresholds_and_windows(text: str, op: str, threshold: float, window_s: float) -> None:
    """The grammar's verbs, numbers (with separators and k/тыс) and windows."""
    rule = _compile(text, "ru" if "сообщ" in text else "en")
    assert (rule.condition.op, rule.condition.threshold) == (op, threshold)
    assert _source(rule).window_s == window_s
    assert _source(rule).compare == "value"


@pytest.mark.parametrize("number", ["50000", "50,000", "50 000", "50k", "50 тыс", "50 тысяч"])
def test_numbers_with_separators(number: str) -> None:
    """Every way of writing fifty thousand reads as 50,000."""
    rule = _compile(f"views of creator {CREATOR} grow more than {number} in an hour")
    assert rule.condition.threshold == 50_000


def test_people_joining() -> None:
    """Another chat measure: people who joined, counted distinct, over a day."""
    rule = _compile("how many people joined exceed 20 per day")
    plan = _source(rule).plan
    assert (plan.dataset, plan.measure.aggregate, plan.measure.column) == (
        Dataset.MEMBER_EVENTS,
        Aggregate.COUNT_DISTINCT,
        "user_id",
    )
    assert [(f.column, f.value) for f in plan.filters] == [("change", "join")]


@pytest.mark.parametrize("language", ["en", "ru"])
def test_every_example_compiles(language: Language) -> None:
    """The examples shown with refusals are watches that compile (in a group)."""
    for example in EXAMPLES[language]:
        _compile(example, language)


def test_summary_in_the_admins_language() -> None:
    """The summary says what is watched and the threshold, with {value} to fill in."""
    text = f"views of creator {CREATOR} grow more than 50,000 in an hour"
    english = _compile(text, "en").summary
    russian = _compile(text, "ru").summary
    assert english.format(value="61,000") == (
        f"Watch: total view growth by creator {CREATOR} in the last hour: 61,000"
        " (alert at more than 50,000)."
    )
    assert "{value}" in russian and "50 000" in russian and "за час" in russian
    ratio = _compile("messages in this chat drop 50% below the same hour last week", "ru")
    assert "того же часа на прошлой неделе" in ratio.summary.format(value="0,4")


def test_name_is_stable_across_languages_and_time() -> None:
    """The same watch in the same chat has the same name, whichever language or minute; a
    different threshold or chat makes another."""
    text = "messages in this chat exceed 300 per hour"
    name = _compile(text).name
    assert name.startswith("Watch_")
    again = compile_watch(
        text, language="ru", chat_id=GROUP, timezone="UTC", now=NOW + timedelta(minutes=5)
    )
    assert isinstance(again, Rule) and again.name == name
    assert _compile("messages in this chat exceed 301 per hour").name != name
    assert _compile(text, chat_id=GROUP - 1).name != name


@pytest.mark.parametrize(
    ("text", "language", "words"),
    [
        ("messages in this chat", "en", "condition"),
        ("messages in this chat grow a lot", "en", "condition"),
        ("сообщения в этом чате", "ru", "условие"),
        ("grow more than 5 in an hour", "en", "before the condition"),
    ],
)
def test_refuses_without_a_condition(text: str, language: Language, words: str) -> None:
    """No condition, or no measure before it: a refusal that says what to add."""
    assert words in _refusal(text, language).reason


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("bananas grow more than 5 in an hour", "en"),
        ("бананы вырастут больше чем на 5 за час", "ru"),
    ],
)
def test_refuses_an_unknown_measure(text: str, language: Language) -> None:
    """A measure the parser does not know is refused with the parser's own explanation."""
    reason = _refusal(text, language).reason
    assert reason.startswith(("I couldn't read what to watch", "Я не понял, за чем следить"))


@pytest.mark.parametrize(
    "text",
    [
        "top 5 videos by views grow more than 5 in an hour",
        "views per hour grow more than 5 in an hour",
        "топ 5 видео по просмотрам вырастут больше чем на 5 за час",
    ],
)
def test_refuses_a_grouped_question(text: str) -> None:
    """A top list or a series is not one number to watch."""
    assert "one number" in _refusal(text).reason


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("messages in this chat exceed 300 per hour", "en"),
        ("сообщения в этом чате больше 300 за час", "ru"),
        ("how many people joined exceed 20 per day", "en"),
    ],
)
def test_refuses_a_chat_watch_outside_a_group(text: str, language: Language) -> None:
    """ "This chat" (or any chat measure) in a private chat: send it in the group."""
    reason = _refusal(text, language, chat_id=None).reason
    assert "/watch" in reason


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("messages in this chat exceed 1.5 per hour", "whole number"),
        ("messages in this chat drop 50% in an hour", "compare with"),
        ("messages in this chat drop 150% below last week", "1% and 99%"),
        ("messages in this chat exceed 300 in 9 days", "seven days"),
    ],
)
def test_refuses_an_unusable_condition(text: str, words: str) -> None:
    """A condition read whole but unusable gets a reason that says how to fix it."""
    assert words in _refusal(text).reason


def test_now_must_be_aware() -> None:
    """A naive ``now`` is a programming error, not a refusal."""
    with pytest.raises(ValueError, match="aware"):
        compile_watch(
            "messages in this chat exceed 300 per hour",
            language="en",
            chat_id=GROUP,
            timezone="UTC",
            now=NOW.replace(tzinfo=None),
        )


@pytest.mark.parametrize(
    ("count", "form"),
    [(1, "час"), (2, "часа"), (5, "часов"), (11, "часов"), (21, "час"), (22, "часа")],
)
def test_plural_ru(count: int, form: str) -> None:
    """Russian plural forms follow CLDR's one/few/many."""
    assert plural_ru(count, "час", "часа", "часов") == form
