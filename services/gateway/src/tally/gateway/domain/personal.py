"""Personal stats and tops by a measure as Telegram cards (HTML): /me, /user @name and
``/top by words|reactions|replies``.

A member card shows one member's activity in this chat only: messages, words, active days
(each against the previous period of as many days), rank by messages, longest streak,
favourite hours, reply partners and reactions received and given. Every name a user chose is
HTML-escaped; numbers use the language's thousands separator.
"""

from html import escape
from typing import Final

from tally.contracts.chat_reports import ChatReport
from tally.contracts.events import Language
from tally.contracts.group_reports import MemberCount, MemberFigures, MemberMeasure
from tally.contracts.render import format_number
from tally.gateway.domain.reports import period

_TEXTS: Final[dict[Language, dict[str, str]]] = {
    "en": {
        "heading": "👤 <b>{label}</b>, {period}",
        "messages": "Messages",
        "words": "Words",
        "active_days": "Active days",
        "rank": "Rank by messages",
        "no_rank": "no messages",
        "streak": "Longest streak: {days} d",
        "hours": "Favourite hours",
        "replies_to": "Replies to",
        "replied_by": "Replied to by",
        "received": "Reactions received",
        "given": "Reactions given",
        "new": " (new)",
        "vs": "% vs previous period",
        "top": "🏆 <b>Top by {measure}</b>, {period}",
        "nobody": "Nobody in this period.",
    },
    "ru": {
        "heading": "👤 <b>{label}</b>, {period}",
        "messages": "Сообщения",
        "words": "Слова",
        "active_days": "Активные дни",
        "rank": "Место по сообщениям",
        "no_rank": "нет сообщений",
        "streak": "Самая длинная серия: {days} дн.",
        "hours": "Любимые часы",
        "replies_to": "Отвечает",
        "replied_by": "Отвечают",
        "received": "Получено реакций",
        "given": "Поставлено реакций",
        "new": " (впервые)",
        "vs": "% к прошлому периоду",
        "top": "🏆 <b>Топ по {measure}</b>, {period}",
        "nobody": "За этот период — никого.",
    },
}
MEASURES: Final[dict[Language, dict[MemberMeasure, str]]] = {
    "en": {
        "messages": "messages",
        "words": "words",
        "reactions": "reactions received",
        "replies": "replies received",
    },
    "ru": {
        "messages": "сообщениям",
        "words": "словам",
        "reactions": "полученным реакциям",
        "replies": "полученным ответам",
    },
}


def _versus(now: int, before: int, language: Language) -> str:
    """`` (+12%)`` / `` (−5%)`` against the previous period, `` (new)`` when it had none."""
    if before == 0:
        return _TEXTS[language]["new"] if now else ""
    percent = round((now - before) * 100 / before)
    return f" ({'+' if percent >= 0 else '−'}{abs(percent)}%)"


def _figure(key: str, value: int, previous: int, language: Language) -> str:
    """``<name of key>: <value> (<change>)``."""
    number = format_number(value, language)
    return f"{_TEXTS[language][key]}: {number}{_versus(value, previous, language)}"


_COMPARED: Final = ("messages", "words", "active_days")
"""The MemberFigures fields (and the card's keys) shown against the previous period first."""


def _figures(now: MemberFigures, before: MemberFigures, language: Language) -> list[str]:
    return [_figure(key, getattr(now, key), getattr(before, key), language) for key in _COMPARED]


def _partners(items: list[MemberCount]) -> str:
    return ", ".join(f"{escape(item.member.label)} ({item.count})" for item in items) or "—"


def member_card(report: ChatReport, language: Language) -> str:
    """The /me and /user card of ``report.member`` (which must be set), HTML."""
    texts, stats = _TEXTS[language], report.member
    assert stats is not None  # the caller sends a member card for a member report only
    now, before = stats.figures, stats.previous
    rank = f"#{now.rank}" if now.rank else texts["no_rank"]
    hours = ", ".join(f"{hour.hour:02d}:00 ({hour.messages})" for hour in stats.favourite_hours)
    label, days = escape(stats.member.label), escape(period(report, language))
    return "\n".join(
        [
            texts["heading"].format(label=label, period=days),
            *_figures(now, before, language),
            f"{texts['rank']}: {rank}",
            texts["streak"].format(days=now.longest_streak),
            f"{texts['hours']}: {hours or '—'}",
            f"{texts['replies_to']}: {_partners(stats.replies_to)}",
            f"{texts['replied_by']}: {_partners(stats.replied_by)}",
            _figure("received", now.reactions_received, before.reactions_received, language),
            _figure("given", now.reactions_given, before.reactions_given, language),
            f"<i>{texts['vs']}</i>",
        ]
    )


def top_card(report: ChatReport, language: Language) -> str:
    """The /top card of ``report.top`` (which must be set): members and their counts, HTML."""
    texts, top = _TEXTS[language], report.top
    assert top is not None  # the caller sends a top card for a top by a measure only
    heading = texts["top"].format(
        measure=MEASURES[language][top.by], period=escape(period(report, language))
    )
    rows = [
        f"{rank}. {escape(item.member.label)} — {format_number(item.count, language)}"
        for rank, item in enumerate(top.items, start=1)
    ]
    return "\n".join([heading, *(rows or [texts["nobody"]])])
