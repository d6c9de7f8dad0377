"""What is captured, as Telegram cards (HTML): /content, /reactions, /replies, /topics,
/members and /words.

Each card shows one field of the :class:`ChatReport` (the read model's result, the numbers
the dashboard shows), headed by the period and the chat's zone
(:func:`tally.gateway.domain.reports.period`). Texts are in the asker's language (en, ru);
numbers use its thousands separator; every name a user chose (labels, hashtags, words,
custom emoji) is HTML-escaped.
"""

from collections.abc import Callable, Iterable
from html import escape
from typing import Final

from tally.contracts.chat_reports import ChatReport
from tally.contracts.events import Language
from tally.contracts.group_reports import (
    ContentBreakdown,
    DayFlow,
    MemberCount,
    MemberFlow,
    ReactionStats,
    ReplyStats,
    TopicActivity,
    TopWords,
)
from tally.contracts.render import format_number
from tally.gateway.domain.reports import period

MAX_DAYS_LISTED: Final = 31
"""Most days a /members card lists (the latest days with joins or leaves)."""
_TEXTS: Final[dict[Language, dict[str, str]]] = {
    "en": {
        "content": "📦 <b>What was posted</b>, {period}",
        "messages": "Messages",
        "types": "By type",
        "entities": "Links: {links} · Mentions: {mentions} · Hashtags: {hashtags}",
        "shared": "Forwards: {forwards} · Replies: {replies}",
        "top_tags": "Top hashtags",
        "tags_unnamed": "<i>Hashtags are counted, not named: this chat does not store text.</i>",
        "reactions": "❤️ <b>Reactions</b>, {period}",
        "total": "Reactions",
        "emoji": "Most used",
        "received": "Received most",
        "given": "Gave most",
        "replies": "💬 <b>Replies</b>, {period}",
        "share": "Replies: {replies} of {messages} messages ({share})",
        "delay": "Median reply time: {delay}",
        "pairs": "Who replies to whom",
        "topics": "🗂 <b>Activity by topic</b>, {period}",
        "general": "General",
        "topic": "Topic {id}",
        "topic_row": "{name} — {messages} msg · {members} members",
        "members": "👥 <b>Joins and leaves</b>, {period}",
        "flow": "Joined: {joins} (via link {via_link} · added {added}) · Left: {leaves}",
        "churn": "Churn: {churned} of {joined} who joined left ({rate})",
        "count": "Members: {last} on {last_day}",
        "count_change": "Members: {first} on {first_day} → {last} on {last_day} ({change})",
        "no_count": "Members: no count taken in this period",
        "inviters": "Added most",
        "per_day": "Per day",
        "earlier": "… and {days} earlier days",
        "words": "🔤 <b>Top words</b>, {period}",
        "none": "Nothing in this period.",
        "s": "{n} s",
        "min": "{n} min",
        "h": "{n} h {m} min",
        "d": "{n} d {h} h",
    },
    "ru": {
        "content": "📦 <b>Что публиковали</b>, {period}",
        "messages": "Сообщения",
        "types": "По типам",
        "entities": "Ссылки: {links} · Упоминания: {mentions} · Хештеги: {hashtags}",
        "shared": "Пересылки: {forwards} · Ответы: {replies}",
        "top_tags": "Популярные хештеги",
        "tags_unnamed": "<i>Хештеги посчитаны, но не названы: этот чат не хранит текст.</i>",
        "reactions": "❤️ <b>Реакции</b>, {period}",
        "total": "Реакции",
        "emoji": "Чаще всего",
        "received": "Больше всех получили",
        "given": "Больше всех поставили",
        "replies": "💬 <b>Ответы</b>, {period}",
        "share": "Ответы: {replies} из {messages} сообщений ({share})",
        "delay": "Медианное время ответа: {delay}",
        "pairs": "Кто кому отвечает",
        "topics": "🗂 <b>Активность по темам</b>, {period}",
        "general": "Общая тема",
        "topic": "Тема {id}",
        "topic_row": "{name} — {messages} сообщ. · {members} участн.",
        "members": "👥 <b>Вступили и вышли</b>, {period}",
        "flow": "Вступили: {joins} (по ссылке {via_link} · добавлены {added}) · Вышли: {leaves}",
        "churn": "Отток: {churned} из {joined} вступивших вышли ({rate})",
        "count": "Участников: {last} на {last_day}",
        "count_change": "Участников: {first} на {first_day} → {last} на {last_day} ({change})",
        "no_count": "Участников: за период число не снималось",
        "inviters": "Больше всех добавили",
        "per_day": "По дням",
        "earlier": "… и ещё дней раньше: {days}",
        "words": "🔤 <b>Частые слова</b>, {period}",
        "no_text": (
            "Этот чат не хранит текст сообщений, поэтому слова не посчитать. Админ может "
            "включить хранение текста в настройках чата; слова считаются с этого момента."
        ),
        "none": "За этот период ничего нет.",
        "s": "{n} с",
        "min": "{n} мин",
        "h": "{n} ч {m} мин",
        "d": "{n} д {h} ч",
    },
}


def _heading(report: ChatReport, key: str, language: Language) -> str:
    return _TEXTS[language][key].format(period=escape(period(report, language)))


def _n(value: int, language: Language) -> str:
    return format_number(value, language)


def _percent(share: float | None) -> str:
    return "—" if share is None else f"{round(share * 100)}%"


def _inline(pairs: Iterable[tuple[str, int]], language: Language) -> str:
    """``name 3 · other 2``, names escaped."""
    return " · ".join(f"{escape(name)} {_n(count, language)}" for name, count in pairs)


def _ranked(title: str, items: list[MemberCount], language: Language) -> list[str]:
    """A titled list ``1. @ann — 3`` (nothing when ``items`` is empty)."""
    if not items:
        return []
    rows = [
        f"{rank}. {escape(item.member.label)} — {_n(item.count, language)}"
        for rank, item in enumerate(items, start=1)
    ]
    return [f"{title}:", *rows]


def delay(seconds: float, language: Language) -> str:
    """A duration as a person reads it: ``45 s``, ``12 min``, ``2 h 5 min``, ``1 d 3 h``."""
    texts, whole = _TEXTS[language], round(seconds)
    if whole < 60:
        return texts["s"].format(n=whole)
    if whole < 3600:
        return texts["min"].format(n=whole // 60)
    if whole < 86400:
        return texts["h"].format(n=whole // 3600, m=whole % 3600 // 60)
    return texts["d"].format(n=whole // 86400, h=whole % 86400 // 3600)


def content_card(report: ChatReport, found: ContentBreakdown, language: Language) -> str:
    """Messages by type, links, mentions, hashtags, forwards, replies; the top hashtags when
    the chat stores text (a note that they are not named otherwise)."""
    texts = _TEXTS[language]
    types = ((t.message_type, t.messages) for t in found.by_type)
    lines = [
        _heading(report, "content", language),
        f"{texts['messages']}: {_n(found.messages, language)}",
        f"{texts['types']}: {_inline(types, language) or '—'}",
        texts["entities"].format(
            links=_n(found.links, language),
            mentions=_n(found.mentions, language),
            hashtags=_n(found.hashtags, language),
        ),
        texts["shared"].format(
            forwards=_n(found.forwards, language), replies=_n(found.replies, language)
        ),
    ]
    if found.top_hashtags:
        tags = ((f"#{tag.tag}", tag.count) for tag in found.top_hashtags)
        lines.append(f"{texts['top_tags']}: {_inline(tags, language)}")
    elif not found.text_stored and found.hashtags:
        lines.append(texts["tags_unnamed"])
    return "\n".join(lines)


def reactions_card(report: ChatReport, found: ReactionStats, language: Language) -> str:
    """The reactions standing on the period's messages: total, most used, the members who
    received and who gave most."""
    texts = _TEXTS[language]
    lines = [
        _heading(report, "reactions", language),
        f"{texts['total']}: {_n(found.total, language)}",
    ]
    if found.top_emoji:
        emoji = ((item.emoji, item.count) for item in found.top_emoji)
        lines.append(f"{texts['emoji']}: {_inline(emoji, language)}")
    lines += _ranked(texts["received"], found.received, language)
    lines += _ranked(texts["given"], found.given, language)
    return "\n".join(lines)


def replies_card(report: ChatReport, found: ReplyStats, language: Language) -> str:
    """Replies and their share of messages, the median reply time, the busiest pairs."""
    texts = _TEXTS[language]
    share = texts["share"].format(
        replies=_n(found.replies, language),
        messages=_n(found.messages, language),
        share=_percent(found.reply_share),
    )
    lines = [_heading(report, "replies", language), share]
    if found.median_delay_seconds is not None:
        lines.append(texts["delay"].format(delay=delay(found.median_delay_seconds, language)))
    if found.top_pairs:
        lines.append(f"{texts['pairs']}:")
        lines += [
            f"{rank}. {escape(pair.replier.label)} → {escape(pair.replied_to.label)}"
            f" — {_n(pair.replies, language)}"
            for rank, pair in enumerate(found.top_pairs, start=1)
        ]
    return "\n".join(lines)


def topics_card(report: ChatReport, found: TopicActivity, language: Language) -> str:
    """Messages and posting members per forum topic, busiest first."""
    texts = _TEXTS[language]
    lines = [_heading(report, "topics", language)]
    for topic in found.topics:
        if topic.title:
            name = escape(topic.title)
        elif topic.thread_id is None:
            name = texts["general"]
        else:
            name = texts["topic"].format(id=topic.thread_id)
        lines.append(
            texts["topic_row"].format(
                name=name,
                messages=_n(topic.messages, language),
                members=_n(topic.members, language),
            )
        )
    if not found.topics:
        lines.append(texts["none"])
    return "\n".join(lines)


def _days(days: list[DayFlow], language: Language) -> list[str]:
    """``06.10 +2 −1`` for the latest MAX_DAYS_LISTED days with joins or leaves."""
    texts = _TEXTS[language]
    busy = [day for day in days if day.joins or day.leaves]
    if not busy:
        return []
    shown = busy[-MAX_DAYS_LISTED:]
    lines = [f"{texts['per_day']}:"]
    if len(busy) > len(shown):
        lines.append(texts["earlier"].format(days=len(busy) - len(shown)))
    return lines + [f"{day.day:%d.%m} +{day.joins} −{day.leaves}" for day in shown]


def _member_count(found: MemberFlow, language: Language) -> str:
    """The member count: the period's first and last snapshot and the change, the one
    snapshot, or that none was taken (never a number made up)."""
    texts, points = _TEXTS[language], found.member_counts
    if not points:
        return texts["no_count"]
    first, last = points[0], points[-1]
    change = last.count - first.count
    return texts["count_change" if len(points) > 1 else "count"].format(
        first=_n(first.count, language),
        first_day=f"{first.day:%d.%m}",
        last=_n(last.count, language),
        last_day=f"{last.day:%d.%m}",
        change=("+" if change > 0 else "−" if change < 0 else "±") + _n(abs(change), language),
    )


def members_card(report: ChatReport, found: MemberFlow, language: Language) -> str:
    """The member count (first and last snapshot of the period, the change), joins (via a
    link, added) and leaves, churn, the members who added most, and the days with joins or
    leaves."""
    texts = _TEXTS[language]
    numbers = {
        name: _n(getattr(found, name), language)
        for name in ("joins", "leaves", "via_link", "added", "churned", "joined_members")
    }
    lines = [
        _heading(report, "members", language),
        _member_count(found, language),
        texts["flow"].format(**numbers),
    ]
    if found.churn_rate is not None:
        lines.append(
            texts["churn"].format(
                churned=numbers["churned"],
                joined=numbers["joined_members"],
                rate=_percent(found.churn_rate),
            )
        )
    lines += _ranked(texts["inviters"], found.top_inviters, language)
    return "\n".join(lines + _days(found.days, language))


def words_card(report: ChatReport, found: TopWords, language: Language) -> str:
    """The top words per language, or the note that the chat does not store text (the read
    model's refusal in English, its translation here in Russian)."""
    texts = _TEXTS[language]
    lines = [_heading(report, "words", language)]
    if not found.text_stored:
        note = texts.get("no_text") or found.refusal or ""
        return "\n".join([*lines, f"<i>{escape(note)}</i>"])
    listed = {name: words for name, words in found.words.items() if words}
    for name, words in listed.items():
        lines.append(f"{name}: {_inline(((w.word, w.count) for w in words), language)}")
    if not listed:
        lines.append(texts["none"])
    return "\n".join(lines)


_CARDS: Final[dict[str, tuple[str, Callable[..., str]]]] = {
    "content": ("content", content_card),
    "reactions": ("reactions", reactions_card),
    "replies": ("replies", replies_card),
    "topics": ("topics", topics_card),
    "members": ("flow", members_card),
    "words": ("words", words_card),
}
"""Each kind: the ChatReport field it shows and the card that shows it."""


def card(report: ChatReport, language: Language) -> str | None:
    """The card of ``report`` (kinds content, reactions, replies, topics, members, words),
    or None when it is of another kind or carries no result."""
    if report.kind not in _CARDS:
        return None
    field, draw = _CARDS[report.kind]
    found = getattr(report, field)
    return None if found is None else draw(report, found, language)
