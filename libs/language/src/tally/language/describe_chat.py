"""The interpretation of a question about the chat it is asked in: what is counted there
("messages in this chat", "people who joined this chat"), its period and calendar, and the
message filters ("with links", "of type photo") and sender ("by anna", "not counting bots").
"""

from typing import Final

from tally.contracts.events import Language
from tally.language.describe_names import join_parts
from tally.language.describe_time import SERIES, calendar_phrase, period_phrase
from tally.semantic.plan import Dataset, Dimension, Filter, Op, QueryPlan, Sender


def describe_chat(plan: QueryPlan, language: Language) -> str:
    """A chat question: what is counted in this chat, then the period (UTC) and any filter
    other than the member change the headline already says."""
    parts = [_chat_headline(plan, language)]
    if plan.time_range:
        parts.append(period_phrase(plan.time_range, language))
    if plan.calendar:
        parts.append(calendar_phrase(plan.calendar, language, dated=True))
    parts += [_chat_filter(f, language) for f in plan.filters if f.column != "change"]
    if plan.sender is not None:
        parts += _sender(plan.sender, language)
    return join_parts(parts, language)


_CHAT_SUBJECTS: Final[dict[Language, dict[tuple[Dataset, str, str | None], str]]] = {
    # (dataset, aggregate, member change) -> what a chat question counts.
    "en": {
        (Dataset.MESSAGES, "count", None): "messages in this chat",
        (Dataset.MESSAGES, "count_distinct", None): "people who wrote in this chat",
        (Dataset.MEMBER_EVENTS, "count_distinct", "join"): "people who joined this chat",
        (Dataset.MEMBER_EVENTS, "count_distinct", "leave"): "people who left this chat",
        (Dataset.MEMBER_EVENTS, "count", "join"): "joins to this chat",
        (Dataset.MEMBER_EVENTS, "count", "leave"): "departures from this chat",
    },
    "ru": {
        (Dataset.MESSAGES, "count", None): "сообщения в этом чате",
        (Dataset.MESSAGES, "count_distinct", None): "участники, писавшие в этом чате",
        (Dataset.MEMBER_EVENTS, "count_distinct", "join"): "участники, вступившие в этот чат",
        (Dataset.MEMBER_EVENTS, "count_distinct", "leave"): "участники, покинувшие этот чат",
        (Dataset.MEMBER_EVENTS, "count", "join"): "вступления в этот чат",
        (Dataset.MEMBER_EVENTS, "count", "leave"): "выходы из этого чата",
    },
}

_CHAT_RANKS: Final[dict[Language, dict[tuple[bool, bool], str]]] = {
    # (one person, most active) -> a ranking of people by their messages.
    "en": {
        (True, True): "the most active person in this chat (by messages)",
        (True, False): "the least active person in this chat (by messages)",
        (False, True): "top {n} people by messages in this chat",
        (False, False): "bottom {n} people by messages in this chat",
    },
    "ru": {
        (True, True): "самый активный участник этого чата (по числу сообщений)",
        (True, False): "самый неактивный участник этого чата (по числу сообщений)",
        (False, True): "топ-{n} участников по числу сообщений в этом чате",
        (False, False): "антитоп-{n} участников по числу сообщений в этом чате",
    },
}


def _chat_headline(plan: QueryPlan, language: Language) -> str:
    grouping, measure = plan.group_by, plan.measure
    if grouping is not None and grouping.by is Dimension.USER:
        template = _CHAT_RANKS[language][(grouping.limit == 1, grouping.order == "desc")]
        return template.format(n=grouping.limit)
    change = next((f.value for f in plan.filters if f.column == "change"), None)
    key = (plan.dataset, measure.aggregate.value, change if isinstance(change, str) else None)
    subject = _CHAT_SUBJECTS[language].get(key)
    if subject is None:
        where = "in this chat" if language == "en" else "в этом чате"
        subject = f"{measure.aggregate.value}({measure.column or '*'}) {plan.dataset.value} {where}"
    if grouping is not None and grouping.by.is_time:
        return f"{subject} {SERIES[language][grouping.by]}"
    return subject


_CONTENT: Final[dict[Language, dict[str, str]]] = {
    "en": {"links": "with links", "hashtags": "with hashtags", "mentions": "with @mentions"},
    "ru": {"links": "со ссылками", "hashtags": "с хэштегами", "mentions": "с упоминаниями"},
}

_TYPE: Final[dict[Language, str]] = {"en": "of type {0}", "ru": "типа {0}"}


def _chat_filter(condition: Filter, language: Language) -> str:
    """ "with links" / "со ссылками"; "of type photo" / "типа photo"."""
    if condition.column in _CONTENT[language] and (condition.op, condition.value) == (Op.GT, 0):
        return _CONTENT[language][condition.column]
    if condition.column == "message_type" and condition.op is Op.EQ:
        return _TYPE[language].format(condition.value)
    return f"{condition.column} {condition.op.value} {condition.value}"


def _sender(sender: Sender, language: Language) -> list[str]:
    """ "by anna" / "от участника anna"; "not counting bots" / "без учёта ботов"."""
    parts = []
    if sender.name is not None:
        parts.append(f"by {sender.name}" if language == "en" else f"от участника {sender.name}")
    if not sender.bots:
        parts.append("not counting bots" if language == "en" else "без учёта ботов")
    return parts
