"""The aiogram Dispatcher of the gateway, with its middlewares and routers."""

from aiogram import Dispatcher, Router
from faststream.nats import NatsBroker

from tally.contracts.subjects import Subjects
from tally.gateway.chat_settings import ChatSettingsView
from tally.gateway.config import GatewaySettings
from tally.gateway.domain.memory import LastAnswers, PendingChoices, Throttle
from tally.gateway.domain.reasks import Reasks
from tally.gateway.metrics import GatewayMetrics
from tally.gateway.telegram import (
    admin,
    alerts,
    capture,
    choices,
    commands,
    feedback,
    groups,
    questions,
)
from tally.gateway.telegram.middlewares import (
    AuthMiddleware,
    ChatAllowList,
    CommandCounter,
    ThrottlingMiddleware,
)

ROUTERS: tuple[Router, ...] = (
    capture.router,
    admin.router,
    alerts.router,
    groups.router,
    commands.router,
    feedback.router,
    choices.router,
    questions.router,
)
"""Feature routers, in matching order: group capture (which passes messages on), the admins'
admin commands, alert commands and buttons (private chats and groups, so before the group and
private routers that take any other text or command), group questions and reports, then
private commands before free-text questions."""

REQUIRED_UPDATES = frozenset(
    {
        "message",
        "edited_message",
        "message_reaction",
        "message_reaction_count",
        "chat_member",
        "my_chat_member",
        "callback_query",
    }
)
"""Update types the gateway always asks for: Telegram sends ``chat_member`` and the reaction
updates only to a bot that names them in ``allowed_updates``."""


def create_dispatcher(
    settings: GatewaySettings,
    *,
    broker: NatsBroker,
    metrics: GatewayMetrics,
    last_answers: LastAnswers,
    pending_choices: PendingChoices,
    chat_settings: ChatSettingsView,
    reasks: Reasks | None = None,
) -> Dispatcher:
    """A Dispatcher whose handlers get ``broker``, ``subjects``, ``metrics``, ``last_answers``,
    ``pending_choices``, ``chat_settings``, ``chat_events`` (a ChatEventPublisher),
    ``admin_chats``, ``admin_users`` (ADMIN_USER_IDS, see telegram.admins) and
    ``group_throttle`` (the Throttle of members' requests in groups) and ``reasks`` (the
    questions asked and not yet answered, see domain.reasks) in their data.

    With ALLOWED_CHAT_IDS set, the chat allow-list runs first, on every update type
    (:meth:`GatewaySettings.allowed_chats`). Throttling of private messages runs next, before
    any await, so a burst is judged in arrival order; commands are counted
    (``tally_commands_total``) once past it, whichever router handles them.

    The feature routers are module-level (one per process): call :func:`release_routers`
    when the dispatcher is done, before creating another.
    """
    subjects = Subjects(settings.subject_prefix)
    dispatcher = Dispatcher(
        name="tally-gateway",
        broker=broker,
        subjects=subjects,
        metrics=metrics,
        last_answers=last_answers,
        pending_choices=pending_choices,
        chat_settings=chat_settings,
        chat_events=capture.ChatEventPublisher(broker, subjects, metrics),
        admin_chats=capture.AdminChats(),
        admin_users=frozenset(settings.admin_user_ids),
        group_throttle=Throttle(settings.group_throttle_interval_s, settings.seen_users_max),
        reasks=reasks or Reasks(first_after_s=0),
    )
    allowed = settings.allowed_chats()
    if allowed is not None:
        dispatcher.update.outer_middleware(ChatAllowList(allowed))
    max_users = settings.seen_users_max
    dispatcher.message.outer_middleware(
        ThrottlingMiddleware(settings.throttle_interval_s, max_users=max_users)
    )
    dispatcher.message.outer_middleware(AuthMiddleware(max_users=max_users))
    dispatcher.message.outer_middleware(CommandCounter())
    dispatcher.include_routers(*ROUTERS)
    return dispatcher


def allowed_updates(dispatcher: Dispatcher) -> list[str]:
    """The update types to poll for: those the routers handle plus ``REQUIRED_UPDATES``."""
    return sorted(REQUIRED_UPDATES.union(dispatcher.resolve_used_update_types()))


def release_routers(dispatcher: Dispatcher) -> None:
    """Detach the feature routers from ``dispatcher`` so a new one may include them.

    aiogram has no public way to detach a router; a process that runs gateways one after
    another (the tests) needs it.
    """
    for router in ROUTERS:
        if router.parent_router is dispatcher:
            dispatcher.sub_routers.remove(router)
            router._parent_router = None
