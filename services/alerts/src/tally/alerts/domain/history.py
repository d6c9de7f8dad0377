"""History events and the views admins see, made from the domain's alerts and silences."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from tally.alerts.domain.dispatch import Notification
from tally.alerts.domain.evaluation import Alert
from tally.contracts.alerting import (
    AlertNotification,
    AlertView,
    HistoryEntryView,
    HistoryEventKind,
    Severity,
)

HistoryKind = HistoryEventKind


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One row of ``alert_history``; ``actor_id`` is an admin's Telegram id, or None."""

    at: datetime
    fingerprint: str
    alertname: str
    labels: dict[str, str]
    event: HistoryKind
    actor_id: int | None = None
    detail: str = ""


def history_view(event: HistoryEvent) -> HistoryEntryView:
    """``event`` as admins read it (``/alerts history``)."""
    return HistoryEntryView(
        at=event.at,
        fingerprint=event.fingerprint,
        alertname=event.alertname,
        labels=event.labels,
        event=event.event,
        actor_id=event.actor_id,
        detail=event.detail,
    )


def events_for(
    alerts: Iterable[Alert],
    event: HistoryKind,
    at: datetime,
    *,
    actor_id: int | None = None,
    detail: str = "",
) -> list[HistoryEvent]:
    """One ``event`` row per alert."""
    return [
        HistoryEvent(at, a.fingerprint, a.rule, dict(a.labels), event, actor_id, detail)
        for a in alerts
    ]


def alert_view(
    alert: Alert, *, acknowledged_by: int | None = None, silenced_by: tuple[str, ...] = ()
) -> AlertView:
    """``alert`` as admins see it: ``starts_at`` is when it fired (pending: became active)."""
    return AlertView(
        fingerprint=alert.fingerprint,
        name=alert.rule,
        labels=dict(alert.labels),
        severity=cast(Severity, alert.labels.get("severity", "warning")),
        state=alert.state,
        summary=alert.summary,
        value=alert.value,
        starts_at=alert.fired_at or alert.active_at,
        ends_at=alert.resolved_at,
        acknowledged_by=acknowledged_by,
        silenced_by=silenced_by,
    )


def notification_event(
    notification: Notification, view: Callable[[Alert], AlertView]
) -> AlertNotification:
    """The bus message for ``notification``: firing alerts first, then resolved ones."""
    return AlertNotification(
        group_id=notification.group_id,
        group_labels=dict(notification.group_labels),
        status=notification.status,
        alerts=tuple(view(alert) for alert in notification.firing + notification.resolved),
        at=notification.at,
    )
