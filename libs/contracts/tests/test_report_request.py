"""ChatReportRequested over an explicit period (issue 15), and the old ``days`` still working."""

from datetime import date

import pytest
from pydantic import ValidationError

from tally.contracts.chat_reports import MAX_REPORT_DAYS, ChatReportRequested

TODAY = date(2025, 12, 10)


def test_days_alone_is_the_last_days() -> None:
    """Without first/last, the report covers the ``days`` days ending today (as before)."""
    request = ChatReportRequested(chat_id=1, kind="stats", days=30)
    assert (request.first, request.last) == (None, None)
    assert request.span(TODAY) == (date(2025, 11, 11), TODAY)
    assert ChatReportRequested(chat_id=1, kind="stats").span(TODAY) == (date(2025, 12, 4), TODAY)


def test_explicit_period_sets_days() -> None:
    """first/last name the days; ``days`` becomes their count, so an older reader of ``days``
    sees a period of the same length."""
    request = ChatReportRequested(
        chat_id=1, kind="top", first=date(2025, 11, 1), last=date(2025, 11, 30)
    )
    assert request.days == 30
    assert request.span(TODAY) == (date(2025, 11, 1), date(2025, 11, 30))


def test_explicit_period_with_matching_days() -> None:
    """``days`` may be given with first/last when it agrees with them."""
    request = ChatReportRequested(
        chat_id=1, kind="top", days=1, first=date(2025, 11, 5), last=date(2025, 11, 5)
    )
    assert request.span(TODAY) == (date(2025, 11, 5), date(2025, 11, 5))


@pytest.mark.parametrize(
    "fields",
    [
        {"first": date(2025, 11, 1)},
        {"last": date(2025, 11, 30)},
        {"first": date(2025, 11, 30), "last": date(2025, 11, 1)},
        {"first": date(2024, 1, 1), "last": date(2025, 1, 1)},
        {"first": date(2025, 11, 1), "last": date(2025, 11, 30), "days": 7},
    ],
    ids=["first-only", "last-only", "reversed", "too-long", "days-disagree"],
)
def test_invalid_periods_are_rejected(fields: dict[str, object]) -> None:
    """A half-given, reversed, too long or self-contradicting period is not a valid message."""
    with pytest.raises(ValidationError):
        ChatReportRequested(chat_id=1, kind="stats", **fields)  # type: ignore[arg-type]


def test_longest_period_is_accepted() -> None:
    """MAX_REPORT_DAYS days, both ends counted, is allowed."""
    request = ChatReportRequested(
        chat_id=1, kind="stats", first=date(2024, 1, 1), last=date(2024, 12, 31)
    )
    assert request.days == MAX_REPORT_DAYS


def test_round_trip() -> None:
    """The period survives JSON both ways; an old message without it still reads."""
    request = ChatReportRequested(
        chat_id=1, kind="heatmap", first=date(2025, 10, 1), last=date(2025, 10, 31)
    )
    assert ChatReportRequested.model_validate_json(request.model_dump_json()) == request
    old = ChatReportRequested.model_validate_json('{"chat_id": 1, "kind": "stats", "days": 14}')
    assert old.span(TODAY) == (date(2025, 11, 27), TODAY)
