"""How alerts read in Telegram and how alert commands are read: pure functions, no bus."""

from datetime import datetime, timedelta, timezone

import pytest

from tally.contracts.alerting import AlertNotification, SilenceView
from tally.contracts.render import MAX_MESSAGE
from tally.gateway.domain.alerts import (
    SILENCE_USAGE,
    UNSILENCE_USAGE,
    WATCH_USAGE,
    UsageError,
    alert_entry,
    alerts_text,
    clip_plain,
    fit,
    notification_text,
    parse_duration,
    parse_silence,
    parse_silence_id,
    parse_watch,
    silences_text,
    utf16_length,
)
from tests.factories.alert_messages import STARTED, alert_view, notification, shown_text


def test_a_firing_notification_has_status_labels_and_each_alert() -> None:
    """Header, group labels, then name, severity, summary, value and since when in UTC."""
    started = datetime(2025, 11, 28, 17, 5, tzinfo=timezone(timedelta(hours=3)))
    text = notification_text(notification(alert_view(starts_at=started)))

    assert text.splitlines() == [
        "<b>🔥 FIRING</b> · 1 alert",
        "<code>alertname=IngestLag, service=ingest</code>",
        "",
        "🟠 <b>IngestLag1</b> · warning · firing",
        "Ingest is 5 minutes behind",
        "value 312.5 · since 2025-11-28 14:05 UTC",
    ]


def test_a_resolved_notification_says_when_each_alert_ended() -> None:
    """✅ RESOLVED, and each alert's end time in UTC."""
    ended = alert_view(state="resolved", ends_at=STARTED + timedelta(minutes=30), value=None)
    text = notification_text(notification(ended, ended, status="resolved"))

    assert text.startswith("<b>✅ RESOLVED</b> · 2 alerts")
    assert "since 2025-11-28 14:05 UTC · resolved 2025-11-28 14:35 UTC" in text
    assert "value" not in text


def test_acknowledged_and_silenced_alerts_are_marked() -> None:
    """Who acknowledged and which silences mute an alert are shown under it."""
    entry = alert_entry(alert_view(acknowledged_by=42, silenced_by=("aaaaaaaaaaaaaaaa",)))

    assert entry.splitlines()[-1] == "✔ acknowledged by user 42 · 🔕 silenced (aaaaaaaaaaaaaaaa)"
    assert "acknowledged" not in alert_entry(alert_view())


def test_everything_from_the_event_is_escaped() -> None:
    """Names, summaries and labels with HTML in them show as text, tags stay balanced."""
    hostile = alert_view(name="<b>x</b>", summary="a & b </code><i>", labels={"k": "<v>"})
    event = AlertNotification(
        group_id="0123456789abcdef",
        group_labels={"team": "</code><script>"},
        status="firing",
        alerts=(hostile,),
    )
    text = notification_text(event)

    assert "&lt;b&gt;x&lt;/b&gt;" in text
    assert "a &amp; b &lt;/code&gt;&lt;i&gt;" in text
    assert "team=&lt;/code&gt;&lt;script&gt;" in text
    assert "<b>x</b>" in shown_text(text) and "</code><script>" in shown_text(text)


def test_two_hundred_alerts_fit_one_message_with_balanced_html() -> None:
    """200 alerts exceed 4096 UTF-16 code units: whole entries are dropped and counted in
    "… and N more"; emoji count double, as Telegram counts them."""
    alerts = [alert_view(number, summary="Ingest 🐢 " * 20) for number in range(1, 201)]
    text = notification_text(notification(*alerts))

    assert utf16_length(text) <= MAX_MESSAGE
    assert len(text) < utf16_length(text)
    shown_count = text.count("· warning · firing")
    assert text.endswith(f"… and {200 - shown_count} more")
    assert 0 < shown_count < 200
    assert f"IngestLag{shown_count}</b>" in text
    assert f"IngestLag{shown_count + 1}</b>" not in text
    shown_text(text)


def test_the_longest_possible_entries_still_fit() -> None:
    """Event strings are clipped before escaping, so even all-ampersand fields fit with the
    header and at least one entry."""
    huge = alert_view(name="&" * 5000, summary="&" * 5000, silenced_by=("&" * 5000,))
    event = AlertNotification(
        group_id="0123456789abcdef",
        group_labels={f"label{n}": "&" * 500 for n in range(50)},
        status="firing",
        alerts=(huge, huge),
    )
    text = notification_text(event)

    assert utf16_length(text) <= MAX_MESSAGE
    assert text.count("· warning · firing") >= 1
    shown_text(text)


def test_fit_keeps_everything_that_fits() -> None:
    """Under the limit nothing is dropped; over it, the count of the dropped is exact."""
    assert fit("head", ["a", "b"]) == "head\n\na\n\nb"
    assert fit("head", ["a" * 10, "b" * 10, "c" * 10], limit=39) == (
        "head\n\n" + "a" * 10 + "\n\n… and 2 more"
    )


def test_listings_show_the_services_message_and_entries() -> None:
    """/alerts and /silences: the reply's message in bold (escaped), then each entry."""
    silence = SilenceView(
        id="00000000000000aa",
        matchers=("alertname=IngestLag", "severity=~warning|critical"),
        created_by=42,
        comment="deploy <soon>",
        starts_at=STARTED,
        ends_at=STARTED + timedelta(hours=2),
    )
    muted = silence.model_copy(update={"ends_at": None, "created_by": 0, "comment": ""})

    listed = silences_text("2 silences & more", [silence, muted])
    assert listed.splitlines() == [
        "<b>2 silences &amp; more</b>",
        "",
        "🔕 <code>00000000000000aa</code> · until 2025-11-28 16:05 UTC",
        "<code>alertname=IngestLag severity=~warning|critical</code>",
        "by user 42 · deploy &lt;soon&gt;",
        "",
        "🔕 <code>00000000000000aa</code> · until resolved",
        "<code>alertname=IngestLag severity=~warning|critical</code>",
        "by config",
    ]
    pending = alerts_text("1 alert", [alert_view(state="pending", severity="critical")])
    assert "🟠" not in pending and "🔴 <b>IngestLag1</b> · critical · pending" in pending


def test_many_silences_fit_one_message() -> None:
    """200 silences are cut like alerts: whole entries and "… and N more"."""
    silence = SilenceView(
        id="00000000000000aa", matchers=("a=b",) * 5, created_by=1, starts_at=STARTED
    )
    text = silences_text("200 silences", [silence] * 200)

    assert utf16_length(text) <= MAX_MESSAGE
    assert text.endswith(f"… and {200 - text.count('🔕')} more")
    shown_text(text)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30m", 1800), ("2h", 7200), ("1d", 86400), ("1d12h", 129600), ("90s", 90), ("1w", 604800)],
)
def test_prometheus_durations(text: str, seconds: float) -> None:
    """Durations read as Prometheus writes them, in seconds."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["2", "h", "2 h", "-1h", "0m", "1.5h", "2hours", ""])
def test_bad_durations_give_the_usage(text: str) -> None:
    """Anything else, and zero, is a usage error."""
    with pytest.raises(UsageError) as raised:
        parse_duration(text)
    assert raised.value.message == SILENCE_USAGE


def test_silence_arguments_are_matchers_then_a_duration() -> None:
    """Every matcher operator is accepted; the last word is the duration."""
    asked = parse_silence("alertname=IngestLag severity=~warning|critical job!=x env!~dev.* 2h")

    assert asked.matchers == (
        "alertname=IngestLag",
        "severity=~warning|critical",
        "job!=x",
        "env!~dev.*",
    )
    assert asked.duration_s == 7200


@pytest.mark.parametrize(
    "args",
    [None, "", "2h", "alertname=IngestLag", "IngestLag 2h", "a=~( 2h", "1a=b 2h", "a=b two"],
)
def test_bad_silence_arguments_give_the_usage(args: str | None) -> None:
    """No matcher, no duration, a word that is not a matcher or a regex that does not
    compile: the usage."""
    with pytest.raises(UsageError) as raised:
        parse_silence(args)
    assert raised.value.message == SILENCE_USAGE


def test_silence_ids_and_watch_words() -> None:
    """/unsilence takes 16 hex digits (any case); /watch 1 to 1000 characters."""
    assert parse_silence_id(" 00000000000000AA ") == "00000000000000aa"
    for bad in (None, "", "xyz", "00000000000000a"):
        with pytest.raises(UsageError, match="Usage: /unsilence") as raised:
            parse_silence_id(bad)
        assert raised.value.message == UNSILENCE_USAGE
    assert parse_watch("  messages drop by half ") == "messages drop by half"
    for bad in (None, "  ", "x" * 1001):
        with pytest.raises(UsageError) as watch_error:
            parse_watch(bad)
        assert watch_error.value.message == WATCH_USAGE


def test_clip_plain_counts_utf16() -> None:
    """A reply too long for a message is cut to 4096 UTF-16 code units, ending in "…"."""
    assert clip_plain("short") == "short"
    clipped = clip_plain("🐢" * 3000)
    assert utf16_length(clipped) <= MAX_MESSAGE and clipped.endswith("…")
