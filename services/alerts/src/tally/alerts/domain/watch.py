"""An admin's ``/watch`` in plain words, compiled into an alert :class:`Rule` (pure).

"views of creator X grow more than 50,000 in an hour" is split into a measure ("views of
creator X") and a condition ("grow more than 50,000 in an hour"). The condition is read by
the small English/Russian grammar below: a direction (grow, exceed, drop, больше, упадут…),
a threshold (a number, ``50,000`` / ``50 000`` / ``50k`` / ``50 тыс``, or a percentage
against the same window a week or a day earlier) and a window ("in an hour", "per day",
"in 15 minutes", "за час"; an hour when none is said). The measure is read by the nl2sql
parser, as the question "how many <measure> today"; the plan's time range only names the
time column, since each evaluation replaces it with the window. A measure of counters
("views") reads as their growth: the parser's reading with the snapshot delta column.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from tally.alerts.domain.rules import ComparisonOp, Condition, MeasureSource, Rule
from tally.contracts.events import Language
from tally.language import Readings, Refusal, parse
from tally.language.describe import describe
from tally.language.numbers import NUMBER, read_number
from tally.language.scan import Unclear
from tally.semantic import catalog
from tally.semantic.plan import DELTAS, QueryPlan

HOUR: Final = 3600.0
DAY: Final = 86400.0
WEEK: Final = 7 * DAY
MAX_WINDOW_S: Final = WEEK
"""Longest window a watch may measure (a week); the shortest is a minute."""


@dataclass(frozen=True, slots=True)
class WatchRefusal:
    """A /watch that cannot be compiled: ``reason`` is a sentence the admin can act on and
    ``examples`` are watches that compile; both in the admin's language."""

    reason: str
    examples: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Threshold:
    """The condition read from the words: ``value op threshold`` over ``window_s``, or with
    ``offset_s`` the ratio to the same window that much earlier."""

    op: ComparisonOp
    threshold: float
    window_s: float
    offset_s: float | None


class _Refused(Exception):
    """A watch refused for a reason key of :data:`_REASONS` (internal)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


_I: Final = re.IGNORECASE
_UP: Final = (
    r"grows?|grew|growing|rises?|rising|increases?|increasing|gains?|gaining|exceeds?|exceeding"
    r"|climbs?|up|more|over|above|higher|вырас\w*|вырос\w*|раст[её]т|растут|увелич\w*"
    r"|превыс\w*|превыша\w*|больше|более|свыше|выше|набер[её]т|наберут|прибав\w*"
)
_DOWN: Final = (
    r"drops?|dropping|dropped|falls?|falling|fell|decreases?|decreasing|declines?|down|less"
    r"|fewer|under|below|lower|sinks?|упад\w*|упаст\w*|сниз\w*|сниж\w*|уменьш\w*|опуст\w*"
    r"|меньше|менее|ниже"
)
_LINKS: Final = r"is|are|will|be|goes|go|gets?|будет|будут|станет|станут|составит|составят"
_FILLER: Final = r"by|than|the|it|to|на|чем|с|со|по|сравнению|относительно|же"
_UP_WORD: Final = re.compile(rf"(?:{_UP})", _I)
_DOWN_WORD: Final = re.compile(rf"(?:{_DOWN})", _I)
_NEUTRAL: Final = re.compile(rf"(?:{_LINKS}|{_FILLER})", _I)
_HEAD: Final = re.compile(rf"(?<!\w)(?:{_UP}|{_DOWN}|{_LINKS})(?!\w)", _I)
"""Where a condition may begin: its verb, comparative or link word."""

_BASES: Final = (
    re.compile(
        r"(?<!\w)(?:(?:than|compared\s+(?:to|with)|vs\.?|versus|of|from)\s+)?"
        r"(?:(?:at\s+|in\s+|on\s+)?the\s+same\s+(?P<unit>hour|day)\s+(?:of\s+)?)?"
        r"(?P<when>last\s+week|a\s+week\s+(?:ago|earlier|before)|yesterday"
        r"|a\s+day\s+(?:ago|earlier|before)|the\s+day\s+before)(?!\w)",
        _I,
    ),
    re.compile(
        r"(?<!\w)(?:(?:чем|по\s+сравнению\s+со?|относительно|от)\s+)?"
        r"(?:(?:то(?:го|т|м|му)|тем)\s+же\s+(?P<unit>час\w*|дн[яюеё]\w*|день)\s+)?"
        r"(?P<when>(?:на\s+)?прошлой\s+неделе|неделю\s+назад|вчера|накануне|сутки\s+назад"
        r"|день\s+назад)(?!\w)",
        _I,
    ),
)
"""The base of a percentage: "the same hour last week", "того же часа вчера"."""
_WINDOWS: Final = (
    re.compile(
        r"(?<!\w)(?:(?:in|per|within|over|during|each|every|for|a|an)\s+"
        r"(?:(?:the\s+)?(?:last|past|next)\s+)?(?:(?P<count>\d+)\s+|an?\s+|one\s+)?"
        r"(?P<unit>minute|min|hour|day)s?|(?P<adverb>hourly|daily))(?!\w)",
        _I,
    ),
    re.compile(
        r"(?<!\w)(?:(?:за|в|на\s+протяжении|в\s+течение)\s+(?:(?:последн|ближайш)\w+\s+)?"
        r"(?:(?P<count>\d+)\s+)?(?P<unit>минут[уы]?|мин|час(?:а|ов)?|сутки|суток|день|дня|дней)"
        r"|(?P<adverb>ежечасно|ежедневно))(?!\w)",
        _I,
    ),
)
_PERCENTS: Final = (
    re.compile(
        r"(?<![\w.,])(?P<percent>\d+(?:[.,]\d+)?)\s*(?:%|percent(?!\w)|per\s*cent(?!\w)|процент\w*)",
        _I,
    ),
)
_NUMBERS: Final = (re.compile(rf"(?<![\w.,]){NUMBER}", _I),)
_WORD: Final = re.compile(r"[^\W\d_]+")
_COMMAND: Final = re.compile(
    r"^\s*(?:/watch(?:@\w+)?\s*)?(?:(?:alert|tell|notify|warn)\s+(?:me\s+)?)?"
    r"(?:(?:when|if|whenever)\s+)?(?:(?:сообщи|предупреди|скажи)(?:те)?,?\s+)?"
    r"(?:(?:когда|если)\s+)?",
    _I,
)
_THIS_CHAT: Final = re.compile(
    r"(?<!\w)(?:(?:this|the)\s+(?:chat|group)|(?:в|из|у)\s+(?:этом|нашем|этой|нашей|этого|нашего)"
    r"\s+(?:чате|группе|чата|группы)|(?:этого|нашего)\s+чата|(?:этой|нашей)\s+группы)(?!\w)",
    _I,
)
_CYRILLIC: Final = re.compile(r"[а-яё]", _I)


def _take(patterns: tuple[re.Pattern[str], ...], text: str) -> tuple[re.Match[str] | None, str]:
    """The first match of any of ``patterns`` and ``text`` with it blanked out."""
    for pattern in patterns:
        match = pattern.search(text)
        if match:
            start, end = match.span()
            return match, text[:start] + " " * (end - start) + text[end:]
    return None, text


def _unit_s(unit: str) -> float:
    unit = unit.lower()
    if unit.startswith(("min", "мин")):
        return 60.0
    return HOUR if unit.startswith(("h", "час")) else DAY


def _window_s(match: re.Match[str]) -> float:
    if match["adverb"]:
        return HOUR if match["adverb"].lower() in ("hourly", "ежечасно") else DAY
    return int(match["count"] or 1) * _unit_s(match["unit"])


def _direction(words: list[str]) -> str | None:
    """``up`` or ``down`` when every word is a direction or filler word, all one way."""
    directions = set()
    for word in words:
        if _UP_WORD.fullmatch(word):
            directions.add("up")
        elif _DOWN_WORD.fullmatch(word):
            directions.add("down")
        elif not _NEUTRAL.fullmatch(word):
            return None
    return directions.pop() if len(directions) == 1 else None


def _ratio(percent: str, direction: str) -> tuple[ComparisonOp, float]:
    """ "50% below" -> ``< 0.5``; "50% above" -> ``> 1.5``."""
    share = float(percent.replace(",", ".")) / 100
    if direction == "up":
        return ">", 1 + share
    if not 0 < share < 1:
        raise _Refused("percent")
    return "<", 1 - share


def _read_condition(tail: str) -> _Threshold | None:
    """The condition ``tail`` states, or None when it has words the grammar does not read.

    Raises :class:`_Refused` for a condition read whole but unusable (a bad number, a
    percentage without a base, a window out of range).
    """
    base, rest = _take(_BASES, tail)
    window, rest = _take(_WINDOWS, rest)
    percent, rest = _take(_PERCENTS, rest)
    number, rest = _take(_NUMBERS, rest)
    direction = _direction(_WORD.findall(rest))
    if direction is None or re.search(r"\d", rest) or not (percent or number):
        return None
    window_s = _window_s(window) if window else _unit_s(base["unit"] or "h") if base else HOUR
    if not 60 <= window_s <= MAX_WINDOW_S:
        raise _Refused("window")
    if percent:
        if base is None:
            raise _Refused("percent_base")
        offset_s = WEEK if re.search(r"week|недел", base["when"], _I) else DAY
        return _Threshold(*_ratio(percent["percent"], direction), window_s, offset_s)
    assert number is not None
    if base is not None:
        raise _Refused("percent_base")
    try:
        value = read_number(number["number"], number["multiplier"])
    except Unclear as unclear:
        raise _Refused("number") from unclear
    return _Threshold(">" if direction == "up" else "<", float(value), window_s, None)


def _split(text: str) -> tuple[str, _Threshold]:
    """``text`` as (measure words, condition): the condition starts at the first head word
    after which the rest reads whole. Raises :class:`_Refused` ("condition", "measure")."""
    text = _COMMAND.sub("", text.replace("\u00a0", " "), count=1).strip()
    for head in _HEAD.finditer(text):
        tail = text[head.start() :].strip(" .!?")
        condition = _read_condition(tail)
        if condition is not None:
            measure = text[: head.start()].strip(" ,:;-—")
            if not _WORD.search(measure):
                raise _Refused("measure")
            return measure, condition
    raise _Refused("condition")


EXAMPLES: Final[dict[Language, tuple[str, ...]]] = {
    "en": (
        "/watch views of creator aca1061a9d324ecf8c3fa2bb32d7be63 grow more than 50,000 in an hour",
        "/watch messages in this chat exceed 300 per hour",
        "/watch messages in this chat drop 50% below the same hour last week",
    ),
    "ru": (
        "/watch просмотры креатора aca1061a9d324ecf8c3fa2bb32d7be63 вырастут больше чем на 50 000"
        " за час",
        "/watch сообщений в этом чате больше 300 за час",
        "/watch сообщения в этом чате упадут на 50% ниже того же часа на прошлой неделе",
    ),
}
"""Watches that compile, shown with every refusal (a test compiles each)."""

_REASONS: Final[dict[str, dict[Language, str]]] = {
    "condition": {
        "en": "I couldn't read the condition. Say what should raise the alert after what to "
        'watch: "grow more than 50,000 in an hour", "exceed 300 per hour", "fall below 10 in '
        'a day" or "drop 50% below the same hour last week".',
        "ru": "Я не понял условие. После того, за чем следить, напишите, когда предупредить: "
        "«вырастут больше чем на 50 000 за час», «больше 300 за час», «меньше 10 за сутки» "
        "или «упадут на 50% ниже того же часа на прошлой неделе».",
    },
    "measure": {
        "en": 'Say what to watch before the condition, e.g. "messages in this chat" or "views '
        'of creator <id>".',
        "ru": "Перед условием напишите, за чем следить, например «сообщения в этом чате» или "
        "«просмотры креатора <id>».",
    },
    "number": {
        "en": "I couldn't read the number. Write a whole number like 50000, 50,000 or 50k.",
        "ru": "Я не смог разобрать число. Напишите целое число, например 50000, 50 000 или 50 тыс.",
    },
    "percent": {
        "en": 'A drop is between 1% and 99%: say, for example, "drop 50% below the same hour '
        'last week".',
        "ru": "Падение — от 1% до 99%: например, «упадут на 50% ниже того же часа на прошлой "
        "неделе».",
    },
    "percent_base": {
        "en": 'A percentage needs something to compare with: "the same hour last week" or "the '
        'same hour yesterday"; a plain number needs none ("more than 300 per hour").',
        "ru": "Проценту нужно, с чем сравнивать: «того же часа на прошлой неделе» или «того же "
        "часа вчера»; простому числу — не нужно («больше 300 за час»).",
    },
    "window": {
        "en": 'A watch measures a window of one minute to seven days, e.g. "in an hour" or '
        '"per day".',
        "ru": "Окно наблюдения — от минуты до семи дней, например «за час» или «за сутки».",
    },
    "this_chat": {
        "en": "That watch is about a group chat: send /watch in the group itself.",
        "ru": "Это наблюдение за группой: отправьте /watch в самой группе.",
    },
    "grouped": {
        "en": 'A watch follows one number, not a top list or a series: drop "top", "per '
        'creator" or "by day" from what to watch.',
        "ru": "Наблюдение следит за одним числом, а не за топом или рядом: уберите «топ», «по "
        "креаторам» или «по дням» из того, за чем следить.",
    },
    "no_time": {
        "en": "I can't tell when those rows happen, so there is no window to measure. Watch "
        "messages, members joining or leaving, views, likes, comments or reports gained, or "
        "videos published.",
        "ru": "Непонятно, когда происходят эти строки, поэтому окно не измерить. Следить можно за "
        "сообщениями, вступлениями и выходами, приростом просмотров, лайков, комментариев и "
        "жалоб или публикациями видео.",
    },
    "readings": {
        "en": "What to watch can be read in more than one way ({readings}). Say which one.",
        "ru": "То, за чем следить, можно понять по-разному ({readings}). Уточните, что именно.",
    },
    "parser": {
        "en": "I couldn't read what to watch. {detail}",
        "ru": "Я не понял, за чем следить. {detail}",
    },
}


def _refusal(refused: _Refused, language: Language) -> WatchRefusal:
    reason = _REASONS[refused.reason][language]
    return WatchRefusal(
        reason.format(detail=refused.detail, readings=refused.detail), EXAMPLES[language]
    )


def plural_ru(count: int, one: str, few: str, many: str) -> str:
    """The Russian form for ``count``: ``1 час``, ``2 часа``, ``5 часов``, ``21 час``
    (CLDR plural rules for ru: https://www.unicode.org/cldr/charts/latest/supplemental/
    language_plural_rules.html#ru)."""
    if count % 10 == 1 and count % 100 != 11:
        return one
    if 2 <= count % 10 <= 4 and not 12 <= count % 100 <= 14:
        return few
    return many


def _questions(measure: str) -> tuple[str, ...]:
    """The questions the parser is asked: "how many <measure> today", then "<measure> today"
    (a measure may already say "view growth of …"); in Russian when it has Cyrillic."""
    russian = bool(_CYRILLIC.search(measure))
    how_many, today = ("сколько", "сегодня") if russian else ("how many", "today")
    return f"{how_many} {measure} {today}", f"{measure} {today}"


def _what(plan: QueryPlan, language: Language) -> str:
    """What ``plan`` measures, without its dates: "total view growth by creator abc123"."""
    return describe(plan.model_copy(update={"time_range": None}), language)


def _one_plan(result: QueryPlan | Readings, language: Language) -> QueryPlan:
    """The plan, or of several readings the one over the snapshot delta column (counters
    grow by their deltas); raises :class:`_Refused` ("readings") when that is not one."""
    if isinstance(result, QueryPlan):
        return result
    deltas = [plan for plan in result.plans if plan.measure.column in DELTAS]
    if len(deltas) == 1:
        return deltas[0]
    raise _Refused("readings", "; ".join(_what(plan, language) for plan in result.plans))


def _read_measure(measure: str, language: Language, zone: str, now: datetime) -> QueryPlan:
    """The parser's plan for ``measure``; raises :class:`_Refused` ("parser", "readings")."""
    today, chat_today = now.date(), now.astimezone(ZoneInfo(zone)).date()
    refusals = []
    for question in _questions(measure):
        result = _parse(question, language, today, zone, chat_today)
        if not isinstance(result, Refusal):
            return _one_plan(result, language)
        refusals.append(result)
    raise _Refused("parser", refusals[0].reason)


def _parse(
    question: str, language: Language, today: date, zone: str, chat_today: date
) -> QueryPlan | Readings | Refusal:
    return parse(question, language=language, today=today, chat_zone=zone, chat_today=chat_today)


def _check(plan: QueryPlan, chat_id: int | None) -> None:
    """Raises :class:`_Refused` for a plan a watch cannot follow."""
    if plan.group_by is not None:
        raise _Refused("grouped")
    if plan.time_range is None:
        raise _Refused("no_time")
    if catalog().chat_scoped(plan.dataset) and chat_id is None:
        raise _Refused("this_chat")


def _windowed(plan: QueryPlan, what: str, window_s: float, now: datetime) -> QueryPlan:
    """``plan`` over ``[now - window_s, now)`` (UTC), described without dates."""
    assert plan.time_range is not None, "checked by _check"
    time_range = plan.time_range.model_copy(
        update={"start": now - timedelta(seconds=window_s), "end": now, "timezone": "UTC"}
    )
    return plan.model_copy(update={"time_range": time_range, "interpretation": what})


def _window_words(window_s: float, language: Language) -> str:
    """ "hour", "day", "15 minutes" | "час", "сутки", "15 минут" (accusative: "за 2 часа")."""
    minutes = round(window_s / 60)
    count, unit = next(
        (minutes // size, unit)
        for size, unit in ((1440, "day"), (60, "hour"), (1, "minute"))
        if minutes % size == 0
    )
    if language == "en":
        return unit if count == 1 else f"{count} {unit}s"
    forms = {"day": ("сутки", "день", "дня", "дней"), "hour": ("час", "час", "часа", "часов")}
    forms["minute"] = ("минуту", "минуту", "минуты", "минут")
    single, *plural = forms[unit]
    return single if count == 1 else f"{count} {plural_ru(count, *plural)}"


_OPS: Final[dict[Language, dict[str, str]]] = {
    "en": {">": "more than", ">=": "at least", "<": "less than", "<=": "at most"},
    "ru": {">": "больше", ">=": "не меньше", "<": "меньше", "<=": "не больше"},
}


def _number(value: float, language: Language) -> str:
    """50000 -> "50,000" | "50 000"; 0.5 -> "0.5" | "0,5"."""
    text = f"{value:,.0f}" if value == int(value) else f"{value:,g}"
    return text if language == "en" else text.replace(",", " ").replace(".", ",")


def _summary(what: str, threshold: _Threshold, language: Language) -> str:
    """The alert's text, with ``{value}`` for the engine to fill in."""
    what = what.replace("{", "{{").replace("}", "}}")
    window = _window_words(threshold.window_s, language)
    suffix = "×" if threshold.offset_s else ""
    limit = f"{_OPS[language][threshold.op]} {_number(threshold.threshold, language)}{suffix}"
    week = threshold.offset_s == WEEK
    if language == "en":
        base = f"the same {window} {'last week' if week else 'yesterday'}"
        value = f"{{value}}× {base}" if threshold.offset_s else "{value}"
        return f"Watch: {what} in the last {window}: {value} (alert at {limit})."
    unit = {"час": "часа", "сутки": "дня"}.get(window, "периода")
    base = f"того же {unit} {'на прошлой неделе' if week else 'вчера'}"
    value = f"{{value}}× от {base}" if threshold.offset_s else "{value}"
    return f"Наблюдение: {what} за {window} — {value} (порог: {limit})."


def _name(source: MeasureSource, condition: Condition) -> str:
    """``Watch_<12 hex>``: the same for the same watch in the same chat, in any language."""
    plan = source.plan
    column = plan.time_range.column if plan.time_range else ""
    bare = plan.model_copy(update={"interpretation": "", "time_range": None})
    parts = (bare, source.model_dump_json(exclude={"plan"}), column, condition)
    key = "|".join(part if isinstance(part, str) else part.model_dump_json() for part in parts)
    return f"Watch_{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def _compile(text: str, language: Language, chat_id: int | None, zone: str, now: datetime) -> Rule:
    measure, threshold = _split(text)
    if chat_id is None and _THIS_CHAT.search(measure):
        raise _Refused("this_chat")
    plan = _read_measure(measure, language, zone, now)
    _check(plan, chat_id)
    what = _what(plan, language)
    source = MeasureSource(
        plan=_windowed(plan, what, threshold.window_s, now),
        window_s=threshold.window_s,
        compare="value" if threshold.offset_s is None else "ratio_to_offset",
        offset_s=threshold.offset_s,
        chat_id=chat_id if catalog().chat_scoped(plan.dataset) else None,
    )
    condition = Condition(op=threshold.op, threshold=threshold.threshold)
    return Rule(
        name=_name(source, condition),
        source=source,
        condition=condition,
        severity="warning",
        labels={"kind": "watch"},
        summary=_summary(what, threshold, language),
    )


def compile_watch(
    text: str, *, language: Language, chat_id: int | None, timezone: str, now: datetime
) -> Rule | WatchRefusal:
    """The alert rule an admin's ``/watch`` text asks for, or why it cannot be one.

    ``text`` may start with ``/watch``; ``language`` is the admin's (the refusal's and the
    summary's language; the text may be English or Russian either way). ``chat_id`` is the
    group the command was sent in (None in a private chat: a watch over chat data, or one
    saying "in this chat", is refused there); ``timezone`` (IANA) is that chat's zone, used
    to read the measure; ``now`` is an aware instant (the plan's stored range is the window
    before it, replaced at every evaluation).

    The rule: ``Watch_<hash>``, a :class:`MeasureSource` (``value``, or ``ratio_to_offset``
    with 604800 s for "last week", 86400 s for "yesterday"), ``value > N`` / ``< N`` or
    ``ratio < 1 - p/100`` / ``> 1 + p/100``, severity ``warning``, labels
    ``{"kind": "watch"}`` and a summary with ``{value}``. Raises ValueError for a naive
    ``now`` or an unknown ``timezone``.
    """
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    try:
        return _compile(text, language, chat_id, timezone, now.astimezone(UTC))
    except _Refused as refused:
        return _refusal(refused, language)
