"""Alertmanager matchers: each operator, quoting, full anchoring, absent labels."""

import pytest

from tally.alerts.domain.matchers import MatcherError, parse_matcher

LABELS = {"alertname": "QueueBacklog", "consumer": "ingest-chats", "severity": "warning"}


@pytest.mark.parametrize(
    ("text", "matches"),
    [
        ("alertname=QueueBacklog", True),
        ('alertname="QueueBacklog"', True),
        ("alertname=Queue", False),
        ("severity!=critical", True),
        ("severity!=warning", False),
        ('consumer=~"ingest-.*"', True),
        ("consumer=~ingest", False),  # anchored: a substring is not a match
        ('consumer!~"ingest-.*"', False),
        ("consumer!~nl2sql|executor", True),
        ("env!=prod", True),  # absent reads as ""
        ('env=""', True),
        ("env=~.+", False),
    ],
)
def test_operators(text: str, matches: bool) -> None:
    """=, !=, =~ and !~ as Alertmanager reads them."""
    assert parse_matcher(text).matches(LABELS) is matches


@pytest.mark.parametrize("text", ["severity", "=x", "1a=b", 'x=~"("'])
def test_bad_matchers(text: str) -> None:
    """Unparseable matchers raise a user-facing error."""
    with pytest.raises(MatcherError):
        parse_matcher(text)
