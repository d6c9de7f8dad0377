"""The aiogram Dispatcher of the gateway, with its middlewares and routers."""

from aiogram import Dispatcher, F, Router

from tally.gateway.context import GatewayContext
from tally.gateway.telegram import (
    admin,
    alerts,
    capture,
    captured,
    choices,
    commands,
    dashboard_link,
    digest,
    errors,
    feedback,
    groups,
    history,
    personal,
    questions,
    settings,
)
from tally.gateway.telegram.filters import inline
from tally.gateway.telegram.middlewares import (
    GROUP_CHATS,
    ChatAllowListMiddleware,
    CommandCountingMiddleware,
    PrivateThrottlingMiddleware,
    UserSeenMiddleware,
)

GROUP_ROUTERS: tuple[Router, ...] = (
    settings.router,
    personal.router,
    captured.router,
    dashboard_link.router,
    digest.router,
    groups.router,
)
"""The feature routers that take messages in groups only, in matching order: group settings
(before the group questions, which take any reply to the bot), personal stats (/me, /user,
and "my stats" to the bot, before the group questions take it), what is captured
(/content, /reactions, ...), then group questions and reports. :func:`create_dispatcher`
puts them under one router that lets only group messages in, so a private message skips
them with one check instead of six (each router passed costs CPU time: BENCHMARKS.md, "The
gateway's CPU per question"). Their other updates (button presses) reach them as before."""

ROUTERS: tuple[Router, ...] = (
    capture.router,
    admin.router,
    alerts.router,
    *GROUP_ROUTERS,
    history.router,
    commands.router,
    feedback.router,
    choices.router,
    questions.router,
    errors.router,
)
"""Every feature router, in matching order: group capture (which passes messages on), the
admins' admin commands, alert commands and buttons (private chats and groups, so before the
group and private routers that take any other text or command), the GROUP_ROUTERS, then a
group's export sent in a private chat (a document), private commands before free-text
questions; last, the errors router that answers for any handler that failed."""

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


def create_dispatcher(ctx: GatewayContext) -> Dispatcher:
    """A Dispatcher whose handlers get ``ctx`` (the GatewayContext) in their data.

    With ALLOWED_CHAT_IDS set, the chat allow-list runs first, on every update type
    (:meth:`GatewaySettings.allowed_chats`). Throttling of private messages runs next, before
    any await, so a burst is judged in arrival order; then ``UserSeen`` is published on a
    user's first private message; commands are counted (``tally_commands_total``) once past
    throttling, whichever router handles them.

    The feature routers, in ROUTERS' order, the GROUP_ROUTERS among them under one router
    for group messages. They are module-level (one per process): call :func:`release_routers`
    when the dispatcher is done, before creating another.
    """
    settings = ctx.settings
    dispatcher = Dispatcher(name="tally-gateway", ctx=ctx)
    allowed = settings.allowed_chats()
    if allowed is not None:
        dispatcher.update.outer_middleware(ChatAllowListMiddleware(allowed))
    dispatcher.message.outer_middleware(PrivateThrottlingMiddleware())
    dispatcher.message.outer_middleware(UserSeenMiddleware(max_users=settings.seen_users_max))
    dispatcher.message.outer_middleware(CommandCountingMiddleware())
    in_groups = Router(name="group messages")
    in_groups.message.filter(inline(F.chat.type.in_(GROUP_CHATS)))
    for router in ROUTERS:
        if router in GROUP_ROUTERS:
            if in_groups.parent_router is None:
                dispatcher.include_router(in_groups)
            in_groups.include_router(router)
        else:
            dispatcher.include_router(router)
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
        parent = router.parent_router
        if parent is dispatcher or (parent is not None and parent.parent_router is dispatcher):
            parent.sub_routers.remove(router)
            router._parent_router = None
