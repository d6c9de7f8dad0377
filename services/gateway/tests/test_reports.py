"""Group reports as replies: the /stats card, the /top list and the PNG charts."""

from datetime import date, timedelta

from tally.contracts.chat_reports import ChatReport, DayActivity, UserActivity
from tally.gateway.domain.reports import (
    activity_chart,
    heatmap_chart,
    stats_card,
    top_text,
)

PNG = b"\x89PNG\r\n\x1a\n"


def _report(**fields: object) -> ChatReport:
    first = date(2025, 10, 20)
    daily = tuple(
        DayActivity(day=first + timedelta(n), messages=100 * n, active_users=n) for n in range(7)
    )
    values: dict[str, object] = {
        "chat_id": -100,
        "kind": "stats",
        "title": "Fans <3",
        "timezone": "Europe/Berlin",
        "first": first,
        "last": first + timedelta(6),
        "messages": 2100,
        "active_users": 12,
        "new_members": 3,
        "left_members": 1,
        "previous_messages": 1400,
        "previous_active_users": 12,
        "daily": daily,
        "top_users": (
            UserActivity(label="@alice", messages=1500, active_days=6),
            UserActivity(label="<b>bob</b>", messages=600, active_days=2),
        ),
        "heatmap": tuple(tuple(day * 24 + hour for hour in range(24)) for day in range(7)),
    }
    return ChatReport.model_validate(values | fields)


def test_stats_card_compares_with_the_previous_period() -> None:
    """Messages +50% against the previous week; the title is HTML-escaped; the period and the
    chat's zone are named; DAU is the average of the days (0..6 -> 3)."""
    card = stats_card(_report(), "en")
    assert "<b>Fans &lt;3</b>, 20–26 Oct 2025 (Europe/Berlin)" in card
    assert "Messages: 2,100 (+50%)" in card
    assert "Active people: 12 (+0%)" in card
    assert "Average DAU: 3.00" in card
    assert "Joined: 3 · Left: 1" in card


def test_russian_card_and_a_new_chat() -> None:
    """Russian words and separators; with nothing before, the change says so."""
    card = stats_card(_report(previous_messages=0), "ru")
    assert "20–26 октября 2025 (Europe/Berlin)" in card
    assert "Сообщения: 2\u202f100 (впервые)" in card


def test_top_list_escapes_names() -> None:
    """A member's chosen name cannot inject HTML into the reply."""
    text = top_text(_report(kind="top"), "en")
    assert "1. @alice — 1,500 (6 d)" in text
    assert "2. &lt;b&gt;bob&lt;/b&gt; — 600 (2 d)" in text


def test_charts_are_png_images() -> None:
    """The activity and heatmap charts render as PNG bytes of a sensible size."""
    for chart in (activity_chart(_report(), "en"), heatmap_chart(_report(), "ru")):
        assert chart.startswith(PNG)
        assert 5_000 < len(chart) < 500_000
