"""Group reports as Telegram replies: a text card (HTML) and, for /stats and /heatmap, a PNG.

Charts are drawn with matplotlib's object API (``Figure`` on the Agg canvas, no pyplot
state), so they can be drawn in worker threads. Texts are in the asker's language; numbers
use its thousands separator (tally.contracts.render.format_number); every name a user chose
(usernames, the chat title) is HTML-escaped. Every card and chart names its period and the
chat's time zone (:func:`tally.language.report_period.describe_period`).
"""

import io
from html import escape
from typing import Final

from matplotlib.figure import Figure

from tally.contracts.chat_reports import ChatReport
from tally.contracts.events import Language
from tally.contracts.render import format_number
from tally.language.report_period import ReportPeriod, describe_period

WEEKDAYS: Final[dict[Language, tuple[str, ...]]] = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "ru": ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс"),
}
_TEXTS: Final[dict[Language, dict[str, str]]] = {
    "en": {
        "stats": "📊 <b>{title}</b>, {period}",
        "messages": "Messages",
        "active": "Active people",
        "dau": "Average DAU",
        "joined": "Joined",
        "left": "Left",
        "top": "🏆 <b>Most active</b>, {period}",
        "nobody": "Nobody wrote in this period.",
        "activity": "📈 <b>Messages per day</b>, {period}",
        "heatmap": "🗓 Messages by weekday and hour, {period}",
        "row": "{rank}. {label} — {messages} ({days} d)",
        "this_chat": "this chat",
        "vs": "vs previous period",
    },
    "ru": {
        "stats": "📊 <b>{title}</b>, {period}",
        "messages": "Сообщения",
        "active": "Активные участники",
        "dau": "Средний DAU",
        "joined": "Вступили",
        "left": "Вышли",
        "top": "🏆 <b>Самые активные</b>, {period}",
        "nobody": "За этот период никто не писал.",
        "activity": "📈 <b>Сообщения по дням</b>, {period}",
        "heatmap": "🗓 Сообщения по дням недели и часам, {period}",
        "row": "{rank}. {label} — {messages} ({days} дн.)",
        "this_chat": "этот чат",
        "vs": "к прошлому периоду",
    },
}


def _change(now: int, before: int, language: Language) -> str:
    """``+12%`` / ``−5%`` against the previous period; ``new`` when it had none."""
    if before == 0:
        return "" if now == 0 else (" (new)" if language == "en" else " (впервые)")
    percent = round((now - before) * 100 / before)
    sign = "+" if percent >= 0 else "−"
    return f" ({sign}{abs(percent)}%)"


def period(report: ChatReport, language: Language) -> str:
    """The report's days and the chat's zone, as :func:`describe_period` names them
    ("1–30 Nov 2025 (Europe/Berlin)"); not escaped."""
    return describe_period(ReportPeriod(report.first, report.last), language, report.timezone)


def _heading(report: ChatReport, key: str, language: Language) -> str:
    title = escape(report.title or _TEXTS[language]["this_chat"])
    return _TEXTS[language][key].format(title=title, period=escape(period(report, language)))


def stats_card(report: ChatReport, language: Language) -> str:
    """The /stats card: messages, active people, average DAU, joins and leaves, with the
    change against the previous period of as many days."""
    texts = _TEXTS[language]
    days = (report.last - report.first).days + 1
    dau = sum(day.active_users for day in report.daily) / days
    messages, active = (
        format_number(value, language) for value in (report.messages, report.active_users)
    )
    joined, left = (
        format_number(value, language) for value in (report.new_members, report.left_members)
    )
    lines = [
        _heading(report, "stats", language),
        f"{texts['messages']}: {messages}"
        + _change(report.messages, report.previous_messages, language),
        f"{texts['active']}: {active}"
        + _change(report.active_users, report.previous_active_users, language),
        f"{texts['dau']}: {format_number(round(dau, 1), language)}",
        f"{texts['joined']}: {joined} · {texts['left']}: {left}",
        f"<i>% {texts['vs']}</i>",
    ]
    return "\n".join(lines)


def top_text(report: ChatReport, language: Language) -> str:
    """The /top list: members ranked by messages, with their active days."""
    texts = _TEXTS[language]
    lines = [_heading(report, "top", language)]
    if not report.top_users:
        return "\n".join([*lines, texts["nobody"]])
    lines += [
        texts["row"].format(
            rank=rank,
            label=escape(user.label),
            messages=format_number(user.messages, language),
            days=user.active_days,
        )
        for rank, user in enumerate(report.top_users, start=1)
    ]
    return "\n".join(lines)


def activity_text(report: ChatReport, language: Language) -> str:
    """The /activity list: messages and DAU for every day of the period."""
    lines = [_heading(report, "activity", language)]
    lines += [
        f"{day.day:%d.%m} — {format_number(day.messages, language)} · DAU {day.active_users}"
        for day in report.daily
    ]
    return "\n".join(lines)


def heatmap_caption(report: ChatReport, language: Language) -> str:
    return _heading(report, "heatmap", language)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def activity_chart(report: ChatReport, language: Language) -> bytes:
    """A PNG: daily messages as bars and DAU as a line, over the period's days."""
    texts = _TEXTS[language]
    figure = Figure(figsize=(8, 3.6))
    axes = figure.add_subplot()
    labels = [f"{day.day:%d.%m}" for day in report.daily]
    axes.bar(
        labels, [day.messages for day in report.daily], color="#4C78A8", label=texts["messages"]
    )
    axes.plot(
        labels, [day.active_users for day in report.daily], color="#F58518", marker="o", label="DAU"
    )
    axes.legend(loc="upper left")
    axes.tick_params(axis="x", labelrotation=45, labelsize=8)
    step = max(1, len(labels) // 15)
    for index, label in enumerate(axes.get_xticklabels()):
        label.set_visible(index % step == 0)
    axes.set_title(period(report, language))
    return _png(figure)


def heatmap_chart(report: ChatReport, language: Language) -> bytes:
    """A PNG: a 7×24 grid of messages by local weekday (Monday first) and hour."""
    figure = Figure(figsize=(9, 3.4))
    axes = figure.add_subplot()
    grid = [list(row) for row in report.heatmap] or [[0] * 24 for _ in range(7)]
    image = axes.imshow(grid, aspect="auto", cmap="Blues")
    axes.set_yticks(range(7), WEEKDAYS[language])
    axes.set_xticks(range(0, 24, 2), [f"{hour:02d}" for hour in range(0, 24, 2)])
    figure.colorbar(image, ax=axes)
    axes.set_title(period(report, language))
    return _png(figure)
