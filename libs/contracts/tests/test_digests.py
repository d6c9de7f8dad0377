"""Digest periods on the chat's calendar: daily is the previous local day from 00:00 local,
weekly the previous Monday to Sunday from Monday; turning a digest on waits for the next
period, and ``last_sent`` never moves back."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from tally.contracts.digests import DigestEntry, due, latest_period, subscribed

BERLIN = ZoneInfo("Europe/Berlin")


def test_daily_is_yesterday_on_the_chats_calendar() -> None:
    # 22:30 UTC on Wednesday 2 Dec is 23:30 in Berlin; 23:30 UTC is already Thursday there.
    assert latest_period("daily", datetime(2026, 12, 2, 22, 30, tzinfo=UTC), BERLIN) == (
        date(2026, 12, 1),
        date(2026, 12, 1),
    )
    assert latest_period("daily", datetime(2026, 12, 2, 23, 30, tzinfo=UTC), BERLIN) == (
        date(2026, 12, 2),
        date(2026, 12, 2),
    )


def test_weekly_is_the_previous_monday_to_sunday() -> None:
    sunday_night = datetime(2026, 12, 6, 22, 30, tzinfo=UTC)  # 23:30 Sunday in Berlin
    monday = datetime(2026, 12, 6, 23, 30, tzinfo=UTC)  # 00:30 Monday 7 Dec in Berlin
    assert latest_period("weekly", sunday_night, BERLIN) == (date(2026, 11, 23), date(2026, 11, 29))
    assert latest_period("weekly", monday, BERLIN) == (date(2026, 11, 30), date(2026, 12, 6))


def test_due_until_sent_and_never_when_off() -> None:
    now = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    entry = DigestEntry(chat_id=1, schedule="daily", last_sent=date(2026, 12, 1))
    assert due(entry, now, BERLIN) == (date(2026, 12, 2), date(2026, 12, 2))
    assert due(entry.model_copy(update={"last_sent": date(2026, 12, 2)}), now, BERLIN) is None
    assert due(entry.model_copy(update={"schedule": None}), now, BERLIN) is None


def test_turning_on_waits_for_the_next_period_and_off_keeps_what_was_sent() -> None:
    now = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)  # Thursday
    on = subscribed(None, 1, "weekly", now=now, zone=BERLIN, user_id=7)
    assert (on.schedule, on.last_sent, on.changed_by) == ("weekly", date(2026, 11, 29), 7)
    assert due(on, now, BERLIN) is None
    daily = subscribed(on, 1, "daily", now=now, zone=BERLIN)
    assert daily.last_sent == date(2026, 12, 2)
    off = subscribed(daily, 1, None, now=now, zone=BERLIN)
    assert (off.schedule, off.last_sent) == (None, date(2026, 12, 2))
    again = subscribed(off, 1, "weekly", now=now, zone=BERLIN)
    assert again.last_sent == date(2026, 12, 2)
