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
from tally.gateway.domain.memory import LastAnswers, PendingChoices, Throttle
from tally.gateway.domain.reasks import Reasks
from tally.gateway.metrics import GatewayMetrics
from tally.gateway.telegram.chat_admins import ChatAdmins
from tally.gateway.telegram.chat_events import BotRoles, ChatEventPublisher
from tally.gateway.telegram.delivery import deliver, deliver_photo


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayContext:
    """One gateway's collaborators and memories.

    ``admin_users`` (ADMIN_USER_IDS) may use admin commands and alert buttons;
    ``admin_chats`` (ADMIN_CHAT_IDS) get alert notifications; ``group_throttle`` is the
    Throttle of members' requests in groups; ``reasks`` the questions asked and not yet
    answered (domain.reasks); ``bot_roles`` whether the bot administers each group;
    ``chat_admins`` who administers each group (getChatMember, kept briefly);
    ``history_import`` held while a group's export sent to the bot is imported (one at a time).
    """

    settings: GatewaySettings
    bot: Bot
    broker: NatsBroker
    subjects: Subjects
    metrics: GatewayMetrics
    chat_events: ChatEventPublisher
    group_throttle: Throttle
    reasks: Reasks
    admin_users: frozenset[int]
    admin_chats: tuple[int, ...]
    last_answers: LastAnswers = field(default_factory=LastAnswers)
    pending_choices: PendingChoices = field(default_factory=PendingChoices)
    chat_settings: ChatSettingsView = field(default_factory=ChatSettingsView)
    bot_roles: BotRoles = field(default_factory=BotRoles)
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
        """A context for ``settings`` with fresh (empty) memories."""
        return cls(
            settings=settings,
            bot=bot,
            broker=broker,
            subjects=subjects,
            metrics=metrics,
            chat_events=ChatEventPublisher(broker, subjects, metrics),
            group_throttle=Throttle(settings.group_throttle_interval_s, settings.seen_users_max),
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
