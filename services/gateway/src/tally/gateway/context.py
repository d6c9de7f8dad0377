"""Everything a gateway handler needs, in one object made once per gateway.

aiogram handlers take it as ``ctx: GatewayContext`` (the Dispatcher's workflow data, see
:func:`tally.gateway.telegram.dispatcher.create_dispatcher`); the NATS subscribers as
``ctx: GatewayDep`` (the broker's FastStream context, see :mod:`tally.gateway.handlers`).
"""

import asyncio
from dataclasses import dataclass, field

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup
from faststream.nats import NatsBroker

from tally.contracts.subjects import Subjects
from tally.gateway.chat_settings import ChatSettingsView
from tally.gateway.config import GatewaySettings
from tally.gateway.domain.reasks import Reasks
from tally.gateway.metrics import GatewayMetrics
from tally.gateway.shared import (
    GatewayState,
    SharedBotRoles,
    SharedChoices,
    SharedLastAnswers,
    SharedThrottle,
)
from tally.gateway.telegram.chat_admins import ChatAdmins
from tally.gateway.telegram.chat_events import ChatEventPublisher
from tally.gateway.telegram.delivery import deliver, deliver_photo


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayContext:
    """One gateway's collaborators and memories.

    ``admin_users`` (ADMIN_USER_IDS) may use admin commands and alert buttons;
    ``admin_chats`` (ADMIN_CHAT_IDS) get alert notifications; ``reasks`` the questions asked
    and not yet answered (domain.reasks). What every gateway must see alike is in ``state``
    (a NATS key-value bucket, opened at start: :mod:`tally.gateway.shared`): the throttles of
    private messages (``private_throttle``) and of members' requests in groups
    (``group_throttle``), the readings offered (``pending_choices``), each chat's last answer
    (``last_answers``, for /sql) and whether the bot administers each group (``bot_roles``).
    ``chat_admins`` is who administers each group (getChatMember, kept briefly);
    ``history_import`` held while a group's export sent to the bot is imported (one at a time).
    """

    settings: GatewaySettings
    bot: Bot
    broker: NatsBroker
    subjects: Subjects
    metrics: GatewayMetrics
    chat_events: ChatEventPublisher
    state: GatewayState
    private_throttle: SharedThrottle
    group_throttle: SharedThrottle
    last_answers: SharedLastAnswers
    pending_choices: SharedChoices
    bot_roles: SharedBotRoles
    reasks: Reasks
    admin_users: frozenset[int]
    admin_chats: tuple[int, ...]
    chat_settings: ChatSettingsView = field(default_factory=ChatSettingsView)
    chat_admins: ChatAdmins = field(default_factory=ChatAdmins)
    history_import: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    def create(
        cls,
        settings: GatewaySettings,
        *,
        subjects: Subjects,
        bot: Bot,
        broker: NatsBroker,
        metrics: GatewayMetrics,
    ) -> "GatewayContext":
        """A context for ``settings`` with fresh memories, its shared state to be opened."""
        state = GatewayState(subjects, replicas=settings.stream_replicas)
        max_users = settings.seen_users_max
        return cls(
            settings=settings,
            bot=bot,
            broker=broker,
            subjects=subjects,
            metrics=metrics,
            chat_events=ChatEventPublisher(broker, subjects, metrics),
            state=state,
            private_throttle=SharedThrottle(
                state, "private", settings.throttle_interval_s, max_users=max_users
            ),
            group_throttle=SharedThrottle(
                state, "group", settings.group_throttle_interval_s, max_users=max_users
            ),
            last_answers=SharedLastAnswers(state),
            pending_choices=SharedChoices(state),
            bot_roles=SharedBotRoles(state),
            reasks=Reasks(first_after_s=settings.reask_after_s),
            admin_users=frozenset(settings.admin_user_ids),
            admin_chats=tuple(settings.admin_chat_ids),
        )

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        parse_mode: str | None = None,
        reply_markup: InlineKeyboardMarkup | None = None,
    ) -> bool:
        """:func:`deliver` ``text`` to ``chat_id`` with this gateway's bot and metrics; True
        when Telegram took it (refusals and failures are logged and counted, never raised)."""
        return await deliver(
            self.bot,
            chat_id,
            text,
            metrics=self.metrics,
            parse_mode=parse_mode,
            reply_markup=reply_markup,
        )

    async def send_photo(
        self, chat_id: int, png: bytes, *, caption: str, parse_mode: str | None = None
    ) -> bool:
        """:func:`deliver_photo` with this gateway's bot and metrics."""
        return await deliver_photo(
            self.bot, chat_id, png, caption=caption, metrics=self.metrics, parse_mode=parse_mode
        )
