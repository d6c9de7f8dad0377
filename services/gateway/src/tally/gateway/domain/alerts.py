"""How alerts read in the admins' chats, and how admins' alert commands are read.

Messages are Telegram HTML: everything taken from an event is escaped, and a message longer
than :data:`MAX_MESSAGE` UTF-16 code units (as Telegram counts) drops whole alert or silence
entries from the end and says "… and N more" instead, so no tag is ever cut. Strings from an
event are clipped before escaping (:data:`MAX_NAME_CHARS`...) so one entry always fits.

Command arguments follow Prometheus and Alertmanager: a matcher is ``name=value``,
``name!=value``, ``name=~regex`` or ``name!~regex``; a duration is ``30m``, ``2h``,
``1d12h`` (units ms, s, m, h, d, w, y).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from tally.contracts.alerting import (
    HISTORY_DEFAULT,
    HISTORY_MAX,
    WATCH_IN_PRIVATE,
    AlertNotification,
    AlertView,
    HistoryEntryView,
    SilenceView,
)
from tally.contracts.render import MAX_MESSAGE, utf16_length
from tally.infra.errors import UserFacingError

MAX_NAME_CHARS = 100
MAX_SUMMARY_CHARS = 200
MAX_LABELS_CHARS = 200
"""Event strings are cut to these many characters (before escaping, which at most
quintuples them: ``&`` -> ``&amp;``), so a header and one entry fit in one message."""
MAX_WATCH_CHARS = 1000
"""The longest /watch text accepted (``AlertCommand.text`` allows as much)."""

_STATUS = {"firing": "🔥 FIRING", "resolved": "✅ RESOLVED"}
_SEVERITY = {"critical": "🔴", "warning": "🟠", "info": "🔵"}
_MATCHER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(=~|!~|!=|=)(.*)$")
_DURATION = re.compile(r"^(?:\d+(?:ms|[smhdwy]))+$")
_DURATION_PART = re.compile(r"(\d+)(ms|[smhdwy])")
_UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_SILENCE_ID = re.compile(r"^[0-9a-f]{16}$")

SILENCE_USAGE = (
    "Usage: /silence <matchers> <duration>, e.g. "
    "/silence alertname=IngestLag severity=~warning|critical 2h\n"
    "Matchers: name=value, name!=value, name=~regex, name!~regex. "
    "Durations: 30m, 2h, 1d, 1d12h."
)
UNSILENCE_USAGE = "Usage: /unsilence <silence id> (16 hex digits, as /silences lists them)."
WATCH_USAGE = (
    "Usage: /watch <what to watch, in plain words>, e.g. "
    "/watch tell me when messages here drop by half compared to last week"
)


ALERTS_USAGE = (
    f"Usage: /alerts (what fires now) or /alerts history [N] (the N latest alert events, "
    f"{HISTORY_DEFAULT} when not given, at most {HISTORY_MAX})."
)
_HISTORY_ICON = {
    "fired": "🔥",
    "resolved": "✅",
    "acknowledged": "✔",
    "silenced": "🔕",
    "unsilenced": "🔔",
    "notified": "📨",
}


class UsageError(UserFacingError):
    """A command's arguments could not be read; the message is the command's usage."""


@dataclass(frozen=True, slots=True)
class SilenceRequest:
    """``/silence``'s arguments: Alertmanager matchers and a duration in seconds (> 0)."""

    matchers: tuple[str, ...]
    duration_s: float


def fit(head: str, entries: Sequence[str], *, limit: int = MAX_MESSAGE) -> str:
    """``head`` and ``entries`` separated by blank lines; when longer than ``limit`` UTF-16
    code units, the first entries that fit and an "… and N more" line for the others."""
    whole = "\n\n".join([head, *entries])
    if utf16_length(whole) <= limit:
        return whole
    budget = limit - utf16_length(f"{head}\n\n… and {len(entries)} more")
    kept = 0
    for entry in entries:
        budget -= utf16_length(entry) + 2
        if budget < 0:
            break
        kept += 1
    return "\n\n".join([head, *entries[:kept], f"… and {len(entries) - kept} more"])


def notification_text(notification: AlertNotification) -> str:
    """The HTML message for ``notification``: status, group labels, then each alert."""
    count = len(notification.alerts)
    head = f"<b>{_STATUS[notification.status]}</b> · {count} alert{'' if count == 1 else 's'}"
    if notification.group_labels:
        head += "\n" + _labels(notification.group_labels)
    return fit(head, [alert_entry(alert) for alert in notification.alerts])


def alerts_text(message: str, alerts: Sequence[AlertView]) -> str:
    """The /alerts reply (HTML): the alerts service's ``message``, then each alert."""
    return fit(f"<b>{_clip(message, MAX_SUMMARY_CHARS)}</b>", [alert_entry(a) for a in alerts])


def silences_text(message: str, silences: Sequence[SilenceView]) -> str:
    """The /silences reply (HTML): the alerts service's ``message``, then each silence."""
    entries = [silence_entry(silence) for silence in silences]
    return fit(f"<b>{_clip(message, MAX_SUMMARY_CHARS)}</b>", entries)


def history_text(message: str, history: Sequence[HistoryEntryView]) -> str:
    """The /alerts history reply (HTML): the alerts service's ``message``, then one line per
    event, newest first."""
    return fit(f"<b>{_clip(message, MAX_SUMMARY_CHARS)}</b>", [history_entry(e) for e in history])


def history_entry(entry: HistoryEntryView) -> str:
    """One history event (HTML): when (UTC), what, which alert, its labels, by whom."""
    icon = _HISTORY_ICON.get(entry.event, "•")
    head = (
        f"{icon} {utc(entry.at)} · {entry.event} · <b>{_clip(entry.alertname, MAX_NAME_CHARS)}</b>"
    )
    labels = {k: v for k, v in entry.labels.items() if k != "alertname"}
    lines = [head, _labels(labels)] if labels else [head]
    facts = [] if entry.actor_id is None else [f"by user {entry.actor_id}"]
    if entry.detail:
        facts.append(_clip(entry.detail, MAX_SUMMARY_CHARS))
    if facts:
        lines.append(" · ".join(facts))
    return "\n".join(lines)


def alert_entry(alert: AlertView) -> str:
    """One alert (HTML): severity and name, state, summary, value, since when (UTC), and
    whether it is acknowledged or silenced."""
    icon = _SEVERITY.get(alert.severity, "⚪")
    lines = [
        f"{icon} <b>{_clip(alert.name, MAX_NAME_CHARS)}</b> · {alert.severity} · {alert.state}",
        _clip(alert.summary, MAX_SUMMARY_CHARS),
    ]
    facts = [] if alert.value is None else [f"value {alert.value:.4g}"]
    facts.append(f"since {utc(alert.starts_at)}")
    if alert.ends_at is not None:
        facts.append(f"resolved {utc(alert.ends_at)}")
    lines.append(" · ".join(facts))
    if marks := _marks(alert):
        lines.append(marks)
    return "\n".join(lines)


def silence_entry(silence: SilenceView) -> str:
    """One silence (HTML): its id, until when (UTC), its matchers, who made it and why."""
    until = "until resolved" if silence.ends_at is None else f"until {utc(silence.ends_at)}"
    matchers = f"<code>{_clip(' '.join(silence.matchers), MAX_LABELS_CHARS)}</code>"
    by = "config" if silence.created_by == 0 else f"user {silence.created_by}"
    lines = [f"🔕 <code>{silence.id}</code> · {until}", matchers, f"by {by}"]
    if silence.comment:
        lines[-1] += f" · {_clip(silence.comment, MAX_SUMMARY_CHARS)}"
    return "\n".join(lines)


def utc(moment: datetime) -> str:
    """``moment`` in UTC to the minute: ``2025-11-28 14:05 UTC``."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def parse_duration(text: str) -> float:
    """Seconds in a Prometheus duration (``90s``, ``30m``, ``1d12h``; ``1y`` is 365 days).

    Raises UsageError (with SILENCE_USAGE) when ``text`` is not one or is zero.
    """
    if not _DURATION.match(text):
        raise UsageError(SILENCE_USAGE)
    seconds = sum(int(n) * _UNIT_S[unit] for n, unit in _DURATION_PART.findall(text))
    if seconds <= 0:
        raise UsageError(SILENCE_USAGE)
    return float(seconds)


def parse_matcher(text: str) -> str:
    """``text`` when it is an Alertmanager matcher whose regex (for ``=~`` / ``!~``)
    compiles; raises UsageError (with SILENCE_USAGE) otherwise."""
    found = _MATCHER.match(text)
    if found is None:
        raise UsageError(SILENCE_USAGE)
    operator, value = found.groups()
    if operator in ("=~", "!~"):
        try:
            re.compile(value)
        except re.error:
            raise UsageError(SILENCE_USAGE) from None
    return text


def parse_silence(args: str | None) -> SilenceRequest:
    """``/silence``'s arguments: one or more matchers, then a duration.

    Raises UsageError (with SILENCE_USAGE) on anything else.
    """
    words = (args or "").split()
    if len(words) < 2:
        raise UsageError(SILENCE_USAGE)
    *matchers, duration = words
    return SilenceRequest(tuple(parse_matcher(m) for m in matchers), parse_duration(duration))


def parse_alerts(args: str | None) -> int | None:
    """``/alerts``' arguments: None for none (list what fires), the number of history events
    for ``history [N]`` (N from 1 to HISTORY_MAX; HISTORY_DEFAULT when not given).

    Raises UsageError (with ALERTS_USAGE) for anything else."""
    words = (args or "").split()
    if not words:
        return None
    if words[0].lower() != "history" or len(words) > 2:
        raise UsageError(ALERTS_USAGE)
    if len(words) == 1:
        return HISTORY_DEFAULT
    if not words[1].isdecimal() or not 1 <= int(words[1]) <= HISTORY_MAX:
        raise UsageError(ALERTS_USAGE)
    return int(words[1])


def parse_silence_id(args: str | None) -> str:
    """``/unsilence``'s argument: a silence id (16 lowercase hex digits, case ignored).

    Raises UsageError (with UNSILENCE_USAGE) otherwise.
    """
    text = (args or "").strip().lower()
    if not _SILENCE_ID.match(text):
        raise UsageError(UNSILENCE_USAGE)
    return text


def parse_watch(args: str | None, *, private: bool = False) -> str:
    """``/watch``'s plain words (1 to MAX_WATCH_CHARS characters, trimmed).

    Raises UsageError with WATCH_IN_PRIVATE when sent in a ``private`` chat (a data alert
    watches a group: in a private chat it would watch nothing, and fire forever), and with
    WATCH_USAGE when the words are missing or too long.
    """
    if private:
        raise UsageError(WATCH_IN_PRIVATE)
    text = (args or "").strip()
    if not 1 <= len(text) <= MAX_WATCH_CHARS:
        raise UsageError(WATCH_USAGE)
    return text


def clip_plain(text: str, limit: int = MAX_MESSAGE) -> str:
    """Plain ``text`` cut to ``limit`` UTF-16 code units, ending in "…" when cut."""
    if utf16_length(text) <= limit:
        return text
    kept = text[: limit - 1]
    while utf16_length(kept) > limit - 1:
        kept = kept[:-1]
    return kept + "…"


def _labels(labels: dict[str, str]) -> str:
    text = ", ".join(f"{name}={value}" for name, value in sorted(labels.items()))
    return f"<code>{_clip(text, MAX_LABELS_CHARS)}</code>"


def _marks(alert: AlertView) -> str:
    marks = []
    if alert.acknowledged_by is not None:
        marks.append(f"✔ acknowledged by user {alert.acknowledged_by}")
    if alert.silenced_by:
        marks.append(f"🔕 silenced ({_clip(', '.join(alert.silenced_by), MAX_NAME_CHARS)})")
    return " · ".join(marks)


def _clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters ("…" when cut), then HTML-escaped."""
    cut = text if len(text) <= limit else text[: limit - 1] + "…"
    return escape(cut, quote=False)
