"""Chat digests: an opt-in /stats card posted to a group daily or weekly.

A chat admin's ``/digest on|off [daily|weekly]`` (gateway) writes the chat's
:class:`DigestEntry` in the key-value bucket ``subjects.digests_bucket`` (``{P}_DIGESTS``, key
``str(chat_id)``). The alerts service's scheduler reads the bucket, and for each chat whose
latest complete period (:func:`latest_period`, on the chat's own calendar) ends after
``last_sent`` claims it with a compare-and-set update (``last_sent`` moved to the period's
last day, on the revision it read): of several replicas only one wins, and a restart sees the
period as sent. The winner asks the executor for the chat's ``stats`` report of the period
and publishes :class:`DigestReady` on ``subjects.digest_ready``; the gateway posts it.

Both writers update on the revision they read, so /digest never undoes a claim, nor a claim a
/digest. Turning a digest off keeps ``last_sent``: on again in the same period sends nothing
twice.

Daily: the previous local day, due from 00:00 in the chat's zone. Weekly: the previous
Monday to Sunday, due from Monday 00:00.
"""

from datetime import date, datetime, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from tally.contracts.chat_reports import ChatReport
from tally.contracts.events import Event, Language

Schedule = Literal["daily", "weekly"]
SCHEDULES: Final[tuple[Schedule, ...]] = ("daily", "weekly")


class DigestEntry(BaseModel):
    """One chat's digest in the bucket: ``schedule`` (None: off), the ``language`` of the card
    (the admin's who turned it on) and ``last_sent``, the last local day of the latest period
    sent or claimed (None: none yet)."""

    chat_id: int
    schedule: Schedule | None = None
    language: Language = "en"
    last_sent: date | None = None
    changed_by: int | None = None
    """The Telegram user id of the admin who last set the schedule."""


class DigestReady(Event):
    """A digest to post (alerts -> gateway, core NATS, queue group): the chat's ``stats``
    ``report`` of ``first`` to ``last`` (local days, inclusive) on ``schedule``."""

    chat_id: int
    schedule: Schedule
    language: Language = "en"
    first: date
    last: date
    report: ChatReport
    timezone: str = Field(default="UTC", max_length=64)


def latest_period(schedule: Schedule, now: datetime, zone: ZoneInfo) -> tuple[date, date]:
    """The latest complete period of ``schedule`` at ``now`` (aware) in ``zone``: (first,
    last) local days, inclusive. Daily: yesterday; weekly: the Monday to Sunday before this
    week's Monday."""
    today = now.astimezone(zone).date()
    if schedule == "daily":
        yesterday = today - timedelta(days=1)
        return yesterday, yesterday
    monday = today - timedelta(days=today.weekday())
    return monday - timedelta(days=7), monday - timedelta(days=1)


def due(entry: DigestEntry, now: datetime, zone: ZoneInfo) -> tuple[date, date] | None:
    """The period to send for ``entry`` now, or None: off, or its latest period already
    sent (``last_sent`` on or after its last day)."""
    if entry.schedule is None:
        return None
    first, last = latest_period(entry.schedule, now, zone)
    if entry.last_sent is not None and entry.last_sent >= last:
        return None
    return first, last


def subscribed(
    current: DigestEntry | None,
    chat_id: int,
    schedule: Schedule | None,
    *,
    now: datetime,
    zone: ZoneInfo,
    language: Language = "en",
    user_id: int | None = None,
) -> DigestEntry:
    """``current`` (None: no entry yet) with ``schedule`` set (None: off). Turning it on marks
    the latest complete period as sent, so the first digest comes at the next period's end
    rather than at once; ``last_sent`` never moves back."""
    last_sent = current.last_sent if current else None
    if schedule is not None:
        _, last = latest_period(schedule, now, zone)
        last_sent = max(last_sent, last) if last_sent else last
    return DigestEntry(
        chat_id=chat_id,
        schedule=schedule,
        language=language if schedule else (current.language if current else language),
        last_sent=last_sent,
        changed_by=user_id,
    )
