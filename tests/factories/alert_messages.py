"""Alerts as the alerts service describes them, and a check of the HTML the bot sends."""

from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from tally.contracts.alerting import AlertNotification, AlertView

STARTED = datetime(2025, 11, 28, 14, 5, tzinfo=UTC)
GROUP_ID = "0123456789abcdef"


def alert_view(number: int = 1, **changes: Any) -> AlertView:
    """Firing warning ``IngestLag<number>`` (fingerprint ``number`` in 16 hex digits) since
    STARTED, value 312.5; ``changes`` override any field."""
    fields: dict[str, Any] = {
        "fingerprint": f"{number:016x}",
        "name": f"IngestLag{number}",
        "labels": {"alertname": f"IngestLag{number}", "severity": "warning"},
        "severity": "warning",
        "state": "firing",
        "summary": "Ingest is 5 minutes behind",
        "value": 312.5,
        "starts_at": STARTED,
    }
    return AlertView.model_validate(fields | changes)


def notification(*alerts: AlertView, status: str = "firing") -> AlertNotification:
    """A notification of group GROUP_ID (``alertname=IngestLag, service=ingest``)."""
    return AlertNotification.model_validate(
        {
            "group_id": GROUP_ID,
            "group_labels": {"alertname": "IngestLag", "service": "ingest"},
            "status": status,
            "alerts": alerts,
        }
    )


class _TagBalance(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open}"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text += data


def shown_text(html: str) -> str:
    """The text Telegram shows for ``html`` (entities decoded); raises AssertionError when a
    tag is closed out of order or left open."""
    parser = _TagBalance()
    parser.feed(html)
    parser.close()
    assert not parser.open, f"unclosed tags: {parser.open}"
    return parser.text
