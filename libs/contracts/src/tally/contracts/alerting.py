"""What the alerts service and the gateway say to each other about alerts.

The shapes follow Prometheus Alertmanager's (https://prometheus.io/docs/alerting/latest/):
an alert is identified by its label set (``fingerprint``); notifications are sent per group
of alerts sharing the route's ``group_by`` labels (``group_key``); silences mute alerts whose
labels match all of their matchers (``name=value``, ``name!=value``, ``name=~regex``,
``name!~regex``).

Two flows:

- **Notifications** (alerts -> gateway -> the admins' chats): :class:`AlertNotification` on
  ``Subjects.alert(status)``, sent after ``group_wait``, on changes after ``group_interval``,
  again after ``repeat_interval``, and once more when the whole group resolves.
- **Commands** (gateway -> alerts, request/reply on ``Subjects.alert_command``):
  :class:`AlertCommand` answered by :class:`AlertCommandReply`. The gateway checks that the
  actor is in ADMIN_USER_IDS before sending; the alerts service records ``actor_id`` in its
  history.
"""

from typing import Final, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from tally.contracts.events import Event, utcnow

Severity = Literal["info", "warning", "critical"]
AlertState = Literal["pending", "firing", "resolved"]
CommandAction = Literal[
    "alerts", "silences", "history", "ack", "silence", "mute", "unsilence", "watch"
]
HistoryEventKind = Literal[
    "fired", "resolved", "acknowledged", "silenced", "unsilenced", "notified"
]
"""What an ``alert_history`` row records (migration 0005's check constraint)."""
HISTORY_DEFAULT: Final = 20
"""``/alerts history`` without a number shows the 20 latest events."""
HISTORY_MAX: Final = 100
"""At most 100 events per ``history`` command (one Telegram message drops the rest anyway)."""

FINGERPRINT_PATTERN = r"^[0-9a-f]{16}$"
"""Fingerprints, group ids and silence ids are 16 lowercase hex digits, so a Telegram
button's callback data (at most 64 bytes) can carry one."""


class AlertView(BaseModel):
    """One alert as admins see it.

    ``labels`` include ``alertname`` and ``severity``; ``value`` is the rule's last sample
    (its unit is the rule's: a ratio 0..1, a count, milliseconds); ``starts_at`` is when it
    started firing (or pending), ``ends_at`` when it resolved (UTC). ``acknowledged_by`` is the
    Telegram user id of the admin who acknowledged it; ``silenced_by`` the ids of silences
    muting it now.
    """

    model_config = ConfigDict(frozen=True)

    fingerprint: str = Field(pattern=FINGERPRINT_PATTERN)
    name: str
    labels: dict[str, str]
    severity: Severity
    state: AlertState
    summary: str
    value: float | None = None
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = None
    acknowledged_by: int | None = None
    silenced_by: tuple[str, ...] = ()


class SilenceView(BaseModel):
    """A silence: alerts matching every matcher are not notified while it is active.

    ``ends_at`` is None for "mute until resolved" silences, which expire when the alerts they
    matched when made have all resolved. ``created_by`` is a Telegram user id (0: config).
    """

    model_config = ConfigDict(frozen=True)

    id: str = Field(pattern=FINGERPRINT_PATTERN)
    matchers: tuple[str, ...]
    created_by: int
    comment: str = ""
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = None


class HistoryEntryView(BaseModel):
    """One row of the alert history: ``event`` happened to alert ``fingerprint`` (rule
    ``alertname``, ``labels``) at ``at`` (UTC); ``actor_id`` is the admin's Telegram user id
    when an admin did it (acknowledged, silenced, unsilenced), else None; ``detail`` says more
    (a silence id, a notification's group)."""

    model_config = ConfigDict(frozen=True)

    at: AwareDatetime
    fingerprint: str
    alertname: str
    labels: dict[str, str]
    event: HistoryEventKind
    actor_id: int | None = None
    detail: str = ""


class AlertNotification(Event):
    """One notification about a group of alerts (Alertmanager's webhook payload, trimmed).

    ``status`` is "firing" while any alert of the group fires, "resolved" when all have.
    ``group_id`` (16 hex) names the group in buttons; ``group_labels`` are its ``group_by``
    labels. ``alerts`` lists firing alerts first, then those resolved since the last
    notification.
    """

    group_id: str = Field(pattern=FINGERPRINT_PATTERN)
    group_labels: dict[str, str]
    status: Literal["firing", "resolved"]
    alerts: tuple[AlertView, ...]
    at: AwareDatetime = Field(default_factory=utcnow)


WATCH_IN_PRIVATE = (
    "Data alerts watch a group: send /watch in the group whose numbers it should follow. "
    "A private chat has no chat data to watch."
)
"""The answer to ``/watch`` in a private chat (the gateway's, and the alerts service's to a
``watch`` command whose ``chat_id`` is a private chat's: a positive Telegram id)."""


class AlertCommand(Event):
    """An admin's command to the alerts service.

    - ``alerts``: list firing and pending alerts; ``silences``: list active silences;
      ``history``: the ``limit`` latest history events (default :data:`HISTORY_DEFAULT`),
      newest first.
    - ``ack``: acknowledge ``target`` (a group id or an alert fingerprint); it stays firing
      but stops repeating.
    - ``silence``: silence ``matchers`` (or, with ``target``, the group's labels) for
      ``duration_s`` seconds; ``mute``: silence ``target``'s group until it resolves.
    - ``unsilence``: expire the silence ``target``.
    - ``watch``: compile ``text`` (plain words, in ``language``) into a data alert, backtest it
      over stored history and enable it; ``chat_id`` (a group's, negative) scopes "this
      chat" and ``timezone`` reads times. A private chat's (positive) is refused.
    """

    action: CommandAction
    actor_id: int
    target: str | None = None
    matchers: tuple[str, ...] = ()
    duration_s: float | None = Field(default=None, gt=0)
    comment: str = ""
    text: str | None = Field(default=None, max_length=1000)
    chat_id: int | None = None
    language: Literal["en", "ru"] = "en"
    timezone: str = "UTC"
    limit: int | None = Field(default=None, ge=1, le=HISTORY_MAX)


class AlertCommandReply(Event):
    """The alerts service's reply: ``ok`` with ``message`` (a sentence fit to show the admin)
    and, for listings, the alerts, silences or history events (newest first)."""

    ok: bool
    message: str
    alerts: tuple[AlertView, ...] = ()
    silences: tuple[SilenceView, ...] = ()
    history: tuple[HistoryEntryView, ...] = ()
