"""The alerts' PostgreSQL side: history rows, silences and watches (migration 0005)."""

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.alerts.domain.history import HistoryEvent
from tally.alerts.domain.rules import Rule
from tally.alerts.domain.silences import Silence
from tally.infra.db.models import AlertHistory, AlertSilence, AlertWatch


class AlertStore:
    """Reads and writes of the alert tables through ``engine``; each call is one
    transaction. Errors are SQLAlchemy's (the engine decides what a failure costs)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def record(self, events: list[HistoryEvent]) -> None:
        """Append ``events`` to ``alert_history`` (nothing when empty)."""
        if not events:
            return
        rows = [
            {
                "at": e.at,
                "fingerprint": e.fingerprint,
                "alertname": e.alertname,
                "labels": e.labels,
                "event": e.event,
                "actor_id": e.actor_id,
                "detail": e.detail,
            }
            for e in events
        ]
        async with self.engine.begin() as connection:
            await connection.execute(insert(AlertHistory), rows)

    async def latest(self, limit: int) -> list[HistoryEvent]:
        """The ``limit`` latest ``alert_history`` rows, newest first (ties: the later
        written first)."""
        table = AlertHistory.__table__
        statement = select(table).order_by(AlertHistory.at.desc(), AlertHistory.id.desc())
        async with self.engine.connect() as connection:
            rows = (await connection.execute(statement.limit(limit))).mappings().all()
        return [
            HistoryEvent(
                at=row["at"],
                fingerprint=row["fingerprint"],
                alertname=row["alertname"],
                labels=dict(row["labels"]),
                event=row["event"],
                actor_id=row["actor_id"],
                detail=row["detail"],
            )
            for row in rows
        ]

    async def save_silence(self, silence: Silence) -> None:
        """Insert a new silence."""
        async with self.engine.begin() as connection:
            await connection.execute(insert(AlertSilence).values(**_silence_row(silence)))

    async def expire_silence(self, silence_id: str, at: datetime) -> None:
        """Mark silence ``silence_id`` expired at ``at``."""
        statement = update(AlertSilence).where(AlertSilence.id == silence_id)
        async with self.engine.begin() as connection:
            await connection.execute(statement.values(expired_at=at))

    async def active_silences(self, now: datetime) -> list[Silence]:
        """Silences not expired and not past ``ends_at`` at ``now``."""
        statement = select(AlertSilence.__table__).where(
            AlertSilence.expired_at.is_(None),
            or_(AlertSilence.ends_at.is_(None), AlertSilence.ends_at > now),
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(statement)).mappings().all()
        return [_silence(dict(row)) for row in rows]

    async def add_watch(self, rule: Rule, *, created_by: int, chat_id: int | None) -> int:
        """Store an enabled watch; its id."""
        values = {"rule": rule.model_dump(mode="json"), "created_by": created_by}
        statement = insert(AlertWatch).values(**values, chat_id=chat_id).returning(AlertWatch.id)
        async with self.engine.begin() as connection:
            return int((await connection.execute(statement)).scalar_one())

    async def watches(self) -> list[tuple[int, Rule, int | None]]:
        """Enabled watches as (id, rule, chat id), oldest first."""
        statement = (
            select(AlertWatch.id, AlertWatch.rule, AlertWatch.chat_id)
            .where(AlertWatch.enabled)
            .order_by(AlertWatch.id)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(statement)).all()
        return [(row.id, Rule.model_validate(row.rule), row.chat_id) for row in rows]

    async def forget_before(self, cutoff: datetime) -> tuple[int, int]:
        """Delete ``alert_history`` rows from before ``cutoff`` and silences that ended
        (expired, or past ``ends_at``) before it; return how many of each, in one
        transaction."""
        ended = or_(AlertSilence.expired_at < cutoff, AlertSilence.ends_at < cutoff)
        async with self.engine.begin() as connection:
            history = await connection.execute(delete(AlertHistory).where(AlertHistory.at < cutoff))
            silences = await connection.execute(delete(AlertSilence).where(ended))
        return history.rowcount, silences.rowcount


def _silence_row(silence: Silence) -> dict[str, Any]:
    return {
        "id": silence.id,
        "matchers": list(silence.matchers),
        "created_by": silence.created_by,
        "comment": silence.comment,
        "starts_at": silence.starts_at,
        "ends_at": silence.ends_at,
        "until_resolved": silence.until_resolved,
        "expired_at": silence.expired_at,
    }


def _silence(row: dict[str, Any]) -> Silence:
    return Silence(
        id=row["id"],
        matchers=tuple(row["matchers"]),
        created_by=row["created_by"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        comment=row["comment"],
        until_resolved=row["until_resolved"],
        expired_at=row["expired_at"],
    )
