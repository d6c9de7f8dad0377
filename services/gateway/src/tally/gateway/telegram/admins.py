"""Who may use admin commands and alert buttons (the Telegram user ids in ADMIN_USER_IDS),
and the audit of every use.

Handlers of admin commands take :class:`IsAdmin` as a filter; a separate handler with
``~IsAdmin()`` (or a fallback) replies :data:`REFUSAL` so a non-admin learns why nothing
happened. The check is by user id, never by chat: anyone can be in an admins' group.

:class:`AdminAuditMiddleware`, an inner middleware of the admin routers, publishes an
:class:`AdminAuditEvent` for each command or press a handler of theirs takes, allowed or
refused, before the handler runs; ingest stores it in ``admin_audit``.
"""

from typing import Any, Final

import nats.errors
import structlog
from aiogram import BaseMiddleware
from aiogram.filters import CommandObject, Filter
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject, User

from tally.contracts.events import AdminAuditEvent
from tally.gateway.context import GatewayContext
from tally.gateway.telegram.middlewares import Handler

REFUSAL = (
    "This command is for Tally's admins only. Ask an admin to add your user id to ADMIN_USER_IDS."
)
MAX_DETAIL_CHARS: Final = 500
"""The longest ``detail`` (a command's arguments) kept in the audit."""
PUBLISH_TIMEOUT_S: Final = 2.0
"""How long an audit event waits for JetStream's confirmation (seconds)."""

log = structlog.get_logger(__name__)


class IsAdmin(Filter):
    """True when the update's sender is in the context's ``admin_users`` (Telegram user ids,
    from ADMIN_USER_IDS); False for anonymous senders."""

    async def __call__(self, event: Message | CallbackQuery, ctx: GatewayContext) -> bool:
        user = event.from_user
        return user is not None and user.id in ctx.admin_users


class AdminAuditMiddleware(BaseMiddleware):
    """Publishes who used which admin command or button, where, and whether they are an admin,
    then runs the handler (whatever became of the event: a failed publish is logged and
    counted in ``tally_gateway_admin_audits_total``, and the command goes on).

    A command is named without ``/``; a button press ``button:<action>`` when its action is
    one of ``buttons``, else ``button:other`` (callback data comes from the client, so the
    names stay a bounded set). Anonymous senders (a group's anonymous admin) are recorded
    as user 0.
    """

    def __init__(self, *, buttons: frozenset[str] = frozenset()) -> None:
        self._buttons = buttons

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        ctx: GatewayContext = data["ctx"]
        audit = self._audit(event, data, ctx.admin_users)
        if audit is not None:
            await publish_audit(ctx, audit)
        return await handler(event, data)

    def _audit(
        self, event: TelegramObject, data: dict[str, Any], admin_users: frozenset[int]
    ) -> AdminAuditEvent | None:
        user: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        named = self._name(event, data)
        if named is None:
            return None
        command, detail = named
        return AdminAuditEvent(
            user_id=user.id if user else 0,
            chat_id=chat.id if chat else None,
            command=command,
            allowed=user is not None and user.id in admin_users,
            detail=detail[:MAX_DETAIL_CHARS],
        )

    def _name(self, event: TelegramObject, data: dict[str, Any]) -> tuple[str, str] | None:
        """(command name, detail) of a command message or a button press, else None."""
        if isinstance(event, Message):
            command: CommandObject | None = data.get("command")
            if command is None:
                return None
            return command.command.lower()[:32], (command.args or "").strip()
        if isinstance(event, CallbackQuery):
            pressed = data.get("callback_data")
            action = str(getattr(pressed, "action", ""))
            name = action if action in self._buttons else "other"
            return f"button:{name}", str(getattr(pressed, "group", ""))
        return None


async def publish_audit(ctx: GatewayContext, audit: AdminAuditEvent) -> bool:
    """Publish ``audit`` to ``subjects.admin_audit`` (stream ACTIVITY), waiting for JetStream's
    confirmation; True when it came, False (logged, counted) when it did not."""
    metrics = ctx.metrics
    try:
        await ctx.broker.publish(
            audit,
            ctx.subjects.admin_audit,
            headers={"Nats-Msg-Id": str(audit.audit_id)},
            stream=ctx.subjects.activity_stream,
            timeout=PUBLISH_TIMEOUT_S,
        )
    except (nats.errors.Error, TimeoutError) as error:
        log.error(
            "admin audit not published",
            command=audit.command,
            user_id=audit.user_id,
            allowed=audit.allowed,
            error=repr(error),
        )
        metrics.audit(allowed=audit.allowed, outcome="failed")
        return False
    metrics.audit(allowed=audit.allowed, outcome="published")
    return True
