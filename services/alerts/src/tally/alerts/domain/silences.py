"""Silences, as in Alertmanager: alerts matching every matcher of an active silence are not
notified (https://prometheus.io/docs/alerting/latest/alertmanager/#silences).

A silence is active from ``starts_at`` until ``ends_at`` (exclusive) or until it is expired
by hand. A "mute until resolved" silence has no ``ends_at``: it expires at the first sweep at
which no pending or firing alert matches it any more.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from tally.alerts.domain.matchers import Matcher, matches_all, parse_matchers
from tally.contracts.alerting import SilenceView


@dataclass(frozen=True, slots=True)
class Silence:
    """One silence; ``created_by`` is a Telegram user id (0: configuration)."""

    id: str
    matchers: tuple[str, ...]
    created_by: int
    starts_at: datetime
    ends_at: datetime | None = None
    comment: str = ""
    until_resolved: bool = False
    expired_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        """Started, not past ``ends_at`` and not expired."""
        if self.expired_at is not None or now < self.starts_at:
            return False
        return self.ends_at is None or now < self.ends_at

    def view(self) -> SilenceView:
        """The silence as admins see it."""
        return SilenceView(
            id=self.id,
            matchers=self.matchers,
            created_by=self.created_by,
            comment=self.comment,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
        )


@dataclass
class Silences:
    """The known silences by id, with their matchers parsed once."""

    _silences: dict[str, tuple[Silence, tuple[Matcher, ...]]] = field(default_factory=dict)

    def add(self, silence: Silence) -> None:
        """Add (or replace) ``silence``; raise MatcherError when a matcher does not parse."""
        self._silences[silence.id] = (silence, parse_matchers(silence.matchers))

    def get(self, silence_id: str) -> Silence | None:
        """The silence ``silence_id``, active or not, if known."""
        found = self._silences.get(silence_id)
        return found[0] if found else None

    def active(self, now: datetime) -> list[Silence]:
        """Active silences, oldest first."""
        found = [silence for silence, _ in self._silences.values() if silence.active(now)]
        return sorted(found, key=lambda silence: silence.starts_at)

    def muting(self, labels: Mapping[str, str], now: datetime) -> tuple[str, ...]:
        """Ids of the active silences whose matchers all match ``labels``."""
        return tuple(
            silence.id
            for silence, matchers in self._silences.values()
            if silence.active(now) and matches_all(matchers, labels)
        )

    def matches(self, silence_id: str, labels: Mapping[str, str]) -> bool:
        """True when silence ``silence_id`` exists and matches ``labels``."""
        found = self._silences.get(silence_id)
        return found is not None and matches_all(found[1], labels)

    def expire(self, silence_id: str, now: datetime) -> Silence | None:
        """Expire an active silence now; the expired silence, or None if not active."""
        found = self._silences.pop(silence_id, None)
        if found is None or not found[0].active(now):
            return None
        return replace(found[0], expired_at=now)

    def sweep(self, active_labels: Iterable[Mapping[str, str]], now: datetime) -> list[Silence]:
        """Forget silences past ``ends_at`` and expire "until resolved" ones that match no
        alert in ``active_labels`` (pending or firing); return both, expired."""
        labels = list(active_labels)
        done: list[Silence] = []
        for silence, matchers in list(self._silences.values()):
            resolved = silence.until_resolved and not any(
                matches_all(matchers, alert) for alert in labels
            )
            if resolved or (silence.ends_at is not None and now >= silence.ends_at):
                del self._silences[silence.id]
                done.append(replace(silence, expired_at=now))
        return done
