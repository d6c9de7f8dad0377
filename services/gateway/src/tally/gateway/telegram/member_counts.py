"""Member count snapshots: each known group's ``getChatMemberCount``, once a day.

At ``MEMBER_COUNT_TIME`` (UTC) every day, the gateway lists the groups it knows (those with
``message`` or ``member_count`` events in CHAT_EVENTS: their subjects, read with one
``STREAM.INFO`` request, so no list of chats is kept anywhere else), asks Telegram for each
one's title and type (``getChat``) and member count (``getChatMemberCount``), and publishes a
:class:`MemberCountObserved` with ``Nats-Msg-Id: {chat_id}:member_count:{UTC day}``. Several
replicas take their snapshots at the same minute, and JetStream, which remembers a message
id for an hour (``CHAT_EVENTS_DUPLICATE_WINDOW_S``), keeps one per chat and day; ingest keeps
one row per chat and local day anyway (the day's last snapshot). A chat Telegram refuses
(the bot was removed, the chat is gone) is logged, counted and skipped; it leaves the list
once its events leave the stream. When the bot is added to a group, the capture router takes
a snapshot at once (:func:`snapshot_added`).
"""

import asyncio
from datetime import UTC, date, datetime, time, timedelta
from typing import Final

import nats.errors
import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import ChatMemberUpdated
from faststream.nats import NatsBroker

from tally.contracts.events import utcnow
from tally.contracts.subjects import Subjects
from tally.gateway.domain import capture
from tally.gateway.metrics import GatewayMetrics
from tally.gateway.telegram.chat_events import ChatEventPublisher

KNOWN_BY: Final = ("message", "member_count")
"""The event kinds whose subjects name the groups snapshotted: any group with a message, and
one kept in the list by its own snapshots."""
PACE_S: Final = 0.05
"""Pause between two chats (seconds): 20 chats a second, two Bot API calls each, under
Telegram's 30 requests a second."""
RETRY_S: Final = 300.0
"""When the chats cannot be listed (NATS unreachable), try again this much later (seconds),
until the UTC day ends."""
log = structlog.get_logger(__name__)


def seconds_until(now: datetime, at: time) -> float:
    """Seconds from ``now`` to the next ``at`` (UTC) strictly after it (``now`` aware)."""
    moment = datetime.combine(now.astimezone(UTC).date(), at, tzinfo=UTC)
    if moment <= now:
        moment += timedelta(days=1)
    return (moment - now).total_seconds()


def chat_ids(subjects: dict[str, int] | None) -> list[int]:
    """The chat ids named by chat event subjects (``{p}.chats.{chat_id}.{kind}``), sorted."""
    return sorted({int(subject.rsplit(".", 2)[1]) for subject in subjects or {}})


class MemberCountSnapshots:
    """Takes every known group's member count (:meth:`take`), daily (:meth:`run`).

    ``allowed``: when not None, only these chats are asked about (``ALLOWED_CHAT_IDS``).
    """

    def __init__(
        self,
        *,
        bot: Bot,
        broker: NatsBroker,
        subjects: Subjects,
        publisher: ChatEventPublisher,
        metrics: GatewayMetrics,
        at: time,
        allowed: frozenset[int] | None = None,
        pace_s: float = PACE_S,
    ) -> None:
        self.bot, self.broker, self.subjects = bot, broker, subjects
        self.publisher, self.metrics = publisher, metrics
        self.at, self.allowed, self.pace_s = at, allowed, pace_s

    async def chats(self) -> list[int]:
        """The groups with ``message`` or ``member_count`` events in CHAT_EVENTS (and in
        ``allowed``). Raises nats.errors.Error (a subclass for a missing stream) or
        TimeoutError when JetStream does not answer."""
        js = self.broker.connection.jetstream()
        found: set[int] = set()
        for kind in KNOWN_BY:
            info = await js.stream_info(
                self.subjects.chat_events_stream,
                subjects_filter=self.subjects.chat_events_of_kind(kind),
            )
            found.update(chat_ids(info.state.subjects))
        return sorted(c for c in found if self.allowed is None or c in self.allowed)

    async def take(self, now: datetime) -> int:
        """Publish the member count of every known group as of ``now`` (UTC), with the event
        id of ``now``'s UTC day; return how many Telegram gave. Raises like :meth:`chats`."""
        day = now.astimezone(UTC).date()
        taken = 0
        for chat_id in await self.chats():
            taken += await self._snapshot(chat_id, day)
            await asyncio.sleep(self.pace_s)
        log.info("member counts taken", day=day.isoformat(), chats=taken)
        return taken

    async def _snapshot(self, chat_id: int, day: date) -> bool:
        try:
            chat = await self.bot.get_chat(chat_id)
            count = await self.bot.get_chat_member_count(chat_id)
        except TelegramAPIError as error:
            log.info("member count refused", chat_id=chat_id, error=str(error))
            self.metrics.member_count_snapshot("refused")
            return False
        self.metrics.member_count_snapshot("taken")
        if chat.type not in capture.GROUP_CHATS:
            return False
        event_id = capture.daily_count_id(chat_id, day)
        event = capture.member_count(chat, count, at=utcnow(), event_id=event_id)
        await self.publisher.publish([event], update_id=None)
        return True

    async def run(self) -> None:
        """Take the snapshots every day at ``at`` (UTC), until cancelled."""
        while True:
            await asyncio.sleep(seconds_until(utcnow(), self.at))
            await self._take_today()

    async def _take_today(self) -> None:
        day = utcnow().date()
        while utcnow().date() == day:
            try:
                await self.take(utcnow())
            except (nats.errors.Error, TimeoutError) as error:
                log.warning("member counts: chats not listed", error=repr(error))
                await asyncio.sleep(RETRY_S)
            except Exception:  # a bug must not end the daily task: logged, tried tomorrow
                log.exception("member counts failed")
                return
            else:
                return


async def snapshot_added(
    bot: Bot,
    publisher: ChatEventPublisher,
    metrics: GatewayMetrics,
    update: ChatMemberUpdated,
    *,
    update_id: int,
) -> None:
    """When ``update`` (``my_chat_member``) says the bot was just added to the group, publish
    the group's member count (event id ``{chat_id}:u{update_id}:member_count``)."""
    if not capture.bot_added(update):
        return
    chat = update.chat
    try:
        count = await bot.get_chat_member_count(chat.id)
    except TelegramAPIError as error:
        log.info("member count refused", chat_id=chat.id, error=str(error))
        metrics.member_count_snapshot("refused")
        return
    metrics.member_count_snapshot("taken")
    event_id = f"{chat.id}:u{update_id}:member_count"
    event = capture.member_count(chat, count, at=update.date, event_id=event_id)
    await publisher.publish([event], update_id=update_id)
