"""How an alert reads in the admins' chats."""

from html import escape

from tally.common.events import AlertNotice

_STATUS = {"firing": "🔥 FIRING", "resolved": "✅ RESOLVED"}


def format_alert(notice: AlertNotice) -> str:
    """A short HTML message for ``notice``; every field taken from the event is escaped.

    ``value`` and ``threshold`` are fractions shown as percentages (0.25 -> ``25.0%``).
    """
    return (
        f"{_STATUS[notice.status]} <b>{escape(notice.name)}</b> ({escape(notice.severity)})\n"
        f"{escape(notice.summary)}\n"
        f"value {notice.value:.1%} vs threshold {notice.threshold:.1%}"
    )
