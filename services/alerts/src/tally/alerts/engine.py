"""The alert engine: rules (file and watches) evaluated over observed samples and measures,
alerts dispatched with Alertmanager's semantics, silences, acknowledgements, history.

It composes the pure domain (tally.alerts.domain) with the history store; it reads no clock
(``now`` is passed in) and publishes nothing (the service publishes what ``evaluate``
returns). Without a store it keeps everything in memory. History writes are best effort: a
database that does not answer must not stop the DatabaseDown alert.
"""

import asyncio
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

import structlog
from sqlalchemy.exc import SQLAlchemyError

from tally.alerts.domain.dispatch import Dispatcher, Notification
from tally.alerts.domain.evaluation import Alert, Change, Evaluator
from tally.alerts.domain.history import (
    HistoryEvent,
    alert_view,
    events_for,
    notification_event,
)
from tally.alerts.domain.inhibition import Inhibitor
from tally.alerts.domain.labels import LabelKey
from tally.alerts.domain.matchers import matches_all, parse_matchers
from tally.alerts.domain.rules import MeasureSource, Rule
from tally.alerts.domain.rules_file import RulesFile
from tally.alerts.domain.samples import SampleStore, metric_values
from tally.alerts.domain.silences import Silence, Silences
from tally.alerts.store import AlertStore
from tally.contracts.alerting import AlertNotification, AlertView, SilenceView

log = structlog.get_logger(__name__)

MeasureReader = Callable[[MeasureSource, datetime], Awaitable[float | None]]
"""Evaluates a measure rule's source at ``now`` (UTC): the number, or None for no data."""


async def no_measures(source: MeasureSource, now: datetime) -> float | None:
    """The reader used when none is injected: measure rules never have data."""
    return None


class AlertEngine:
    """Every alert of one alerts process.

    Public API (the service, the gateway's commands and /watch use these):
    :meth:`start`, :meth:`configure`, :meth:`evaluate`, :meth:`alerts`,
    :meth:`silence_views`, :meth:`history`, :meth:`acknowledge`, :meth:`silence`, :meth:`unsilence`,
    :meth:`find`, :meth:`add_watch`, :meth:`firing_counts`; ``samples`` is the store the
    collectors record into. ``enabled`` False (``ALERTS_ENABLED=false``): the service does
    not run :meth:`evaluate`, and ``/alerts`` says alerting is off.
    """

    def __init__(
        self,
        rules: RulesFile,
        *,
        store: AlertStore | None = None,
        measure_reader: MeasureReader = no_measures,
        samples: SampleStore | None = None,
        store_timeout_s: float = 5.0,
        enabled: bool = True,
    ) -> None:
        self.config = rules
        self.enabled = enabled
        self.store = store
        self.measure_reader = measure_reader
        self.samples = samples or SampleStore()
        self.store_timeout_s = store_timeout_s
        self.evaluator = Evaluator()
        self.silences = Silences()
        self.dispatcher = Dispatcher(rules.route, self.silences, _inhibitors(rules))
        self.watches: dict[int, Rule] = {}
        self._changes: list[Change] = []

    async def start(self, now: datetime) -> None:
        """Load active silences and enabled watches from the store (raises its errors)."""
        if self.store is None:
            return
        for silence in await self.store.active_silences(now):
            self.silences.add(silence)
        for watch_id, rule, chat_id in await self.store.watches():
            self.watches[watch_id] = _watch_rule(watch_id, rule, chat_id)

    def configure(self, rules: RulesFile, now: datetime) -> None:
        """Use new rules (a reload): route and inhibition change at once; alerts of rules
        that are gone resolve at the next evaluation."""
        self.config = rules
        self.dispatcher.route = rules.route
        self.dispatcher.inhibitors = _inhibitors(rules)
        self._changes += self.evaluator.drop_rules(self._rules(), now)

    def _rules(self) -> dict[str, Rule]:
        rules = {rule.name: rule for rule in self.config.rules}
        rules.update({f"watch:{watch_id}": rule for watch_id, rule in self.watches.items()})
        return rules

    async def _values(self, rule: Rule, now: datetime) -> dict[LabelKey, float | None]:
        source = rule.source
        if isinstance(source, MeasureSource):
            return {(): await self.measure_reader(source, now)}
        matchers = parse_matchers(source.matchers)
        return metric_values(self.samples, source, matchers, now.timestamp())

    async def evaluate(self, now: datetime) -> list[AlertNotification]:
        """Evaluate every rule at ``now``, flush due groups; the notifications to publish.
        A rule whose source raises keeps its alerts as they were (logged)."""
        changes, self._changes = self._changes, []
        for key, rule in self._rules().items():
            try:
                values = await self._values(rule, now)
            except Exception:  # one broken rule must not stop the others; its state stays
                log.exception("rule evaluation failed", rule=key)
                continue
            changes += self.evaluator.evaluate(rule, values, now, key=key)
        resolved = [change.alert for change in changes if change.transition == "resolved"]
        self.dispatcher.receive([*self.evaluator.active(), *resolved], now)
        expired = self.silences.sweep([a.labels for a in self.evaluator.active()], now)
        notifications = self.dispatcher.flush(now)
        history = [e for c in changes for e in events_for([c.alert], c.transition, now)]
        for n in notifications:
            history += events_for(n.firing + n.resolved, "notified", now, detail=_sent(n))
        for silence in expired:
            history += self._unsilenced(silence, None, now, "expired")
        await self._write(history, expired)
        return [notification_event(n, lambda a: self.view(a, now)) for n in notifications]

    def view(self, alert: Alert, now: datetime) -> AlertView:
        """``alert`` with who acknowledged it and the silences muting it now."""
        return alert_view(
            alert,
            acknowledged_by=self.dispatcher.acknowledged.get(alert.fingerprint),
            silenced_by=self.dispatcher.silenced_by(alert, now),
        )

    def alerts(self, now: datetime) -> list[AlertView]:
        """Firing alerts first, then pending ones, each oldest first."""
        active = sorted(self.evaluator.active(), key=lambda a: (a.state != "firing", a.active_at))
        return [self.view(alert, now) for alert in active]

    def silence_views(self, now: datetime) -> list[SilenceView]:
        """Active silences, oldest first."""
        return [silence.view() for silence in self.silences.active(now)]

    def firing_counts(self) -> Counter[tuple[str, str]]:
        """Firing alerts by (alertname, severity)."""
        firing = [a for a in self.evaluator.active() if a.state == "firing"]
        return Counter((a.labels["alertname"], a.labels["severity"]) for a in firing)

    def find(self, target: str) -> tuple[list[Alert], dict[str, str] | None]:
        """The firing alerts ``target`` names (a group id, or an alert fingerprint) and the
        labels that select them (the group's labels, or the alert's)."""
        group = self.dispatcher.groups.get(target)
        if group is not None:
            return self.dispatcher.find(target), dict(group.labels)
        alerts = self.dispatcher.find(target)
        return alerts, (dict(alerts[0].labels) if alerts else None)

    async def acknowledge(self, target: str, *, actor_id: int, now: datetime) -> list[Alert]:
        """Acknowledge the firing alerts of ``target`` (group id or fingerprint); they stay
        firing but stop repeating. The alerts acknowledged now (not those acked before)."""
        alerts, _ = self.find(target)
        done = self.dispatcher.acknowledge([a.fingerprint for a in alerts], actor_id)
        await self._write(events_for(done, "acknowledged", now, actor_id=actor_id))
        return done

    async def silence(
        self,
        matchers: Sequence[str],
        *,
        actor_id: int,
        now: datetime,
        duration_s: float | None = None,
        comment: str = "",
    ) -> tuple[Silence, list[Alert]]:
        """Silence ``matchers`` for ``duration_s`` seconds, or until the alerts it matches
        resolve when None; the silence and the pending or firing alerts it matches now.
        Raises MatcherError on a matcher that does not parse."""
        parsed = parse_matchers(matchers)
        ends_at = None if duration_s is None else now + timedelta(seconds=duration_s)
        silence = Silence(
            secrets.token_hex(8),
            tuple(matchers),
            actor_id,
            now,
            ends_at,
            comment,
            until_resolved=duration_s is None,
        )
        self.silences.add(silence)
        matched = [a for a in self.evaluator.active() if matches_all(parsed, a.labels)]
        detail = f"silence {silence.id}" + (f": {comment}" if comment else "")
        history = events_for(matched, "silenced", now, actor_id=actor_id, detail=detail)
        await self._write(history, new_silence=silence)
        return silence, matched

    async def unsilence(self, silence_id: str, *, actor_id: int, now: datetime) -> Silence | None:
        """Expire silence ``silence_id`` now; the expired silence, or None if not active."""
        silence = self.silences.expire(silence_id, now)
        if silence is not None:
            history = self._unsilenced(silence, actor_id, now, "expired by hand")
            await self._write(history, [silence])
        return silence

    async def history(self, limit: int) -> list[HistoryEvent]:
        """The ``limit`` latest history events, newest first, read from the store within
        ``store_timeout_s``. Raises the store's errors, TimeoutError, or RuntimeError without
        a store (the history is kept only in PostgreSQL)."""
        if self.store is None:
            raise RuntimeError("the alert history needs the alert store")
        async with asyncio.timeout(self.store_timeout_s):
            return await self.store.latest(limit)

    async def add_watch(self, rule: Rule, *, created_by: int, chat_id: int | None) -> int:
        """Store ``rule`` as an admin's data alert and evaluate it from the next evaluation
        on; its id. Its alerts carry ``watch_id`` (and ``chat_id`` when made in a chat)
        labels. Raises the store's errors (or RuntimeError without a store)."""
        if self.store is None:
            raise RuntimeError("watches need the alert store")
        async with asyncio.timeout(self.store_timeout_s):
            watch_id = await self.store.add_watch(rule, created_by=created_by, chat_id=chat_id)
        self.watches[watch_id] = _watch_rule(watch_id, rule, chat_id)
        return watch_id

    def _unsilenced(
        self, silence: Silence, actor_id: int | None, now: datetime, why: str
    ) -> list[HistoryEvent]:
        matched = [a for a in self.evaluator.active() if self.silences_match(silence, a)]
        detail = f"silence {silence.id} {why}"
        return events_for(matched, "unsilenced", now, actor_id=actor_id, detail=detail)

    @staticmethod
    def silences_match(silence: Silence, alert: Alert) -> bool:
        """True when ``silence``'s matchers match ``alert``."""
        return matches_all(parse_matchers(silence.matchers), alert.labels)

    async def _write(
        self,
        history: list[HistoryEvent],
        expired: Sequence[Silence] = (),
        new_silence: Silence | None = None,
    ) -> None:
        if self.store is None:
            return
        try:
            async with asyncio.timeout(self.store_timeout_s):
                if new_silence is not None:
                    await self.store.save_silence(new_silence)
                for silence in expired:
                    await self.store.expire_silence(
                        silence.id, silence.expired_at or silence.starts_at
                    )
                await self.store.record(history)
        except (SQLAlchemyError, OSError, TimeoutError) as error:
            log.error("alert history not stored", error=repr(error), events=len(history))


def _inhibitors(rules: RulesFile) -> tuple[Inhibitor, ...]:
    return tuple(Inhibitor.compile(rule) for rule in rules.inhibit_rules)


def _watch_rule(watch_id: int, rule: Rule, chat_id: int | None) -> Rule:
    labels = {**rule.labels, "watch_id": str(watch_id)}
    if chat_id is not None:
        labels["chat_id"] = str(chat_id)
    return rule.model_copy(update={"labels": labels})


def _sent(notification: Notification) -> str:
    return f"group {notification.group_id} {notification.status}"
