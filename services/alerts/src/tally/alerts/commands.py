"""Admins' alert commands (request/reply on ``Subjects.alert_command``), answered by the
engine with a sentence fit to show the admin.

``silence`` without ``duration_s`` lasts :data:`DEFAULT_SILENCE_S`; ``mute`` lasts until the
group's alerts resolve. ``history`` reads the latest rows of ``alert_history`` (PostgreSQL;
a reply saying so when it cannot). ``watch`` compiles a data alert (tally.alerts.watches) when a
``measures`` engine is given.
"""

from datetime import datetime

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.alerts.domain.history import history_view
from tally.alerts.domain.matchers import MatcherError
from tally.alerts.engine import AlertEngine
from tally.alerts.watches import watch
from tally.contracts.alerting import HISTORY_DEFAULT, AlertCommand, AlertCommandReply

log = structlog.get_logger(__name__)

DEFAULT_SILENCE_S = 3600.0
"""A silence without a duration lasts an hour (Alertmanager's amtool default is 1 h)."""


def plural(count: int, noun: str) -> str:
    """``1 alert``, ``2 alerts``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


def human_duration(seconds: float) -> str:
    """``45 s``, ``30 min``, ``1 h``, ``1 h 30 min``, ``2 d``."""
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "min")) if n]
    if secs and not days and not hours:
        parts.append(f"{secs} s")
    return " ".join(parts) or "0 s"


def short(identifier: str) -> str:
    """The first four hex digits and an ellipsis, as admins read ids."""
    return f"{identifier[:4]}…"


async def handle(
    engine: AlertEngine,
    command: AlertCommand,
    now: datetime,
    *,
    measures: AsyncEngine | None = None,
) -> AlertCommandReply:
    """Carry out ``command`` at ``now``; a reply with ``ok`` False when it cannot be done.
    ``measures`` is the read-only database the ``watch`` command backtests on."""
    try:
        match command.action:
            case "alerts":
                return _alerts(engine, now)
            case "silences":
                views = engine.silence_views(now)
                message = (
                    "No active silences."
                    if not views
                    else f"{plural(len(views), 'active silence')}."
                )
                return AlertCommandReply(ok=True, message=message, silences=tuple(views))
            case "history":
                return await _history(engine, command.limit or HISTORY_DEFAULT)
            case "ack":
                return await _ack(engine, command, now)
            case "silence" | "mute":
                return await _silence(engine, command, now)
            case "unsilence":
                return await _unsilence(engine, command, now)
            case "watch" if measures is not None:
                return await watch(engine, command, now, database=measures)
            case "watch":
                return AlertCommandReply(ok=False, message="Data alerts need the database.")
    except MatcherError as error:
        return AlertCommandReply(ok=False, message=error.message)


def _alerts(engine: AlertEngine, now: datetime) -> AlertCommandReply:
    if not engine.enabled:
        return AlertCommandReply(
            ok=True, message="Alerting is off (ALERTS_ENABLED=false): no rule is evaluated."
        )
    views = engine.alerts(now)
    firing = sum(view.state == "firing" for view in views)
    pending = len(views) - firing
    if not views:
        return AlertCommandReply(ok=True, message="No alerts are firing.")
    message = f"{plural(firing, 'alert')} firing, {pending} pending."
    return AlertCommandReply(ok=True, message=message, alerts=tuple(views))


async def _history(engine: AlertEngine, limit: int) -> AlertCommandReply:
    if engine.store is None:
        return AlertCommandReply(ok=False, message="The alert history needs the database.")
    try:
        events = await engine.history(limit)
    except (SQLAlchemyError, OSError, TimeoutError) as error:
        log.error("alert history not read", error=repr(error))
        return AlertCommandReply(
            ok=False, message="The alert history could not be read; try again shortly."
        )
    if not events:
        return AlertCommandReply(ok=True, message="No alert events recorded yet.")
    message = f"The {plural(len(events), 'latest alert event')}, newest first."
    return AlertCommandReply(
        ok=True, message=message, history=tuple(history_view(event) for event in events)
    )


async def _ack(engine: AlertEngine, command: AlertCommand, now: datetime) -> AlertCommandReply:
    if not command.target:
        return AlertCommandReply(ok=False, message="Say which alert or group to acknowledge.")
    alerts, _ = engine.find(command.target)
    if not alerts:
        return AlertCommandReply(
            ok=False, message=f"No firing alert or group {short(command.target)}."
        )
    done = await engine.acknowledge(command.target, actor_id=command.actor_id, now=now)
    message = (
        f"Acknowledged {plural(len(done), 'alert')}: they stay firing but will not repeat."
        if done
        else "Those alerts were already acknowledged."
    )
    return AlertCommandReply(
        ok=True, message=message, alerts=tuple(engine.view(a, now) for a in alerts)
    )


async def _silence(engine: AlertEngine, command: AlertCommand, now: datetime) -> AlertCommandReply:
    matchers = list(command.matchers)
    if command.target:
        _, labels = engine.find(command.target)
        if labels is None:
            return AlertCommandReply(
                ok=False, message=f"No firing alert or group {short(command.target)}."
            )
        matchers = [f'{name}="{value}"' for name, value in sorted(labels.items())]
    if not matchers:
        return AlertCommandReply(ok=False, message="Say what to silence: a group or matchers.")
    duration = None if command.action == "mute" else (command.duration_s or DEFAULT_SILENCE_S)
    silence, matched = await engine.silence(
        matchers, actor_id=command.actor_id, now=now, duration_s=duration, comment=command.comment
    )
    span = "until they resolve" if duration is None else f"for {human_duration(duration)}"
    verb = "Muted" if duration is None else "Silenced"
    message = f"{verb} {plural(len(matched), 'alert')} {span} (silence {short(silence.id)})."
    return AlertCommandReply(ok=True, message=message, silences=(silence.view(),))


async def _unsilence(
    engine: AlertEngine, command: AlertCommand, now: datetime
) -> AlertCommandReply:
    if not command.target:
        return AlertCommandReply(ok=False, message="Say which silence to end.")
    silence = await engine.unsilence(command.target, actor_id=command.actor_id, now=now)
    if silence is None:
        return AlertCommandReply(ok=False, message=f"No active silence {short(command.target)}.")
    return AlertCommandReply(
        ok=True, message=f"Silence {short(silence.id)} ended.", silences=(silence.view(),)
    )
