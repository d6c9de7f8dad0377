"""The admins' commands /analytics, /health and /metrics, in private chats and in groups.

Each asks the executor for an :class:`OpsReport` (core NATS request on ``{p}.reports.ops``)
and replies with it as HTML (:mod:`tally.gateway.domain.ops`). Only the user ids in
ADMIN_USER_IDS may (:class:`IsAdmin`); anyone else gets :data:`REFUSAL` and nothing is
asked. Every use, allowed or refused, is audited (:class:`AdminAuditMiddleware`); in groups
a member's commands are throttled first (:class:`GroupThrottlingMiddleware`). When the
executor does not reply in time the admin is told it is not answering; /health still shows
the gateway's own line.
"""

from typing import Final

import structlog
from aiogram import Router
from aiogram.enums import ParseMode
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from opentelemetry import trace

from tally.contracts.ops_reports import (
    METRICS_CATEGORIES,
    MetricsCategory,
    OpsKind,
    OpsReport,
    OpsReportRequested,
)
from tally.gateway.context import GatewayContext
from tally.gateway.domain import ops
from tally.gateway.telegram.admins import REFUSAL, AdminAuditMiddleware, IsAdmin
from tally.gateway.telegram.filters import MAYBE_COMMAND
from tally.gateway.telegram.middlewares import GroupThrottlingMiddleware
from tally.gateway.telegram.requests import request_reply

router: Final = Router(name=__name__)
router.message.filter(MAYBE_COMMAND)  # every handler takes a command
router.message.middleware(GroupThrottlingMiddleware())
router.message.middleware(AdminAuditMiddleware())
COMMANDS: Final = ("analytics", "health", "metrics")
REPORT_TIMEOUT_S: Final = 10.0
HEALTH_TIMEOUT_S: Final = 5.0
"""How long the gateway waits for the executor (seconds); its /health probes take at most 2 s
each, run together."""
tracer: Final = trace.get_tracer("tally.gateway")
log = structlog.get_logger(__name__)


@router.message(Command(*COMMANDS), IsAdmin())
async def report(message: Message, command: CommandObject, ctx: GatewayContext) -> None:
    """``/analytics``, ``/health`` or ``/metrics [category]``: the executor's report."""
    ctx.metrics.message("command")
    kind: OpsKind = "health" if command.command.lower() == "health" else "analytics"
    category: MetricsCategory | None = None
    if command.command.lower() == "metrics":
        kind, category = "metrics", _category(command.args)
        if category is None:
            await ctx.send(message.chat.id, ops.usage())
            return
    request = OpsReportRequested(kind=kind, category=category)
    found = await _fetch(ctx, request)
    await ctx.send(message.chat.id, _text(request, found), parse_mode=ParseMode.HTML)


@router.message(Command(*COMMANDS))
async def refuse(message: Message, ctx: GatewayContext) -> None:
    """Anyone not in ADMIN_USER_IDS: the refusal, and nothing asked of the executor."""
    ctx.metrics.message("command")
    await ctx.send(message.chat.id, REFUSAL)


def _category(args: str | None) -> MetricsCategory | None:
    """The /metrics category asked for: performance without one; None when it is unknown."""
    word = (args or "").strip().lower() or "performance"
    for category in METRICS_CATEGORIES:
        if word == category:
            return category
    return None


def _text(request: OpsReportRequested, found: OpsReport | None) -> str:
    if request.kind == "health":
        return ops.health(found)
    return ops.not_answering(request.kind) if found is None else ops.render(found)


async def _fetch(ctx: GatewayContext, request: OpsReportRequested) -> OpsReport | None:
    """The executor's report, or None (logged) when it did not answer in time, none listens
    (NATS's "no responders") or its reply is not a report."""
    return await request_reply(
        ctx.broker,
        request,
        ctx.subjects.ops_report,
        OpsReport,
        timeout_s=HEALTH_TIMEOUT_S if request.kind == "health" else REPORT_TIMEOUT_S,
        span="telegram ops report",
        attributes={"tally.report": request.kind},
    )
