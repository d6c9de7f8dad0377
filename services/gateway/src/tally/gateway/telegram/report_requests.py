"""Asking the executor for a group report: the request a report command makes (its period
read on the chat's calendar by :func:`tally.language.report_period.read_report_arguments`)
and the core NATS request for the :class:`ChatReport`. Shared by /stats and the other
report commands (groups.py), the captured-data reports (captured.py) and /me, /user
(personal.py)."""

from datetime import datetime
from typing import Any, Final

from aiogram.types import Message

from tally.contracts.chat_reports import DEFAULT_TOP, ChatReport, ChatReportRequested, ReportKind
from tally.contracts.events import Language
from tally.contracts.language import detect_language
from tally.gateway.chat_settings import chat_zone
from tally.gateway.context import GatewayContext
from tally.gateway.telegram.requests import request_reply
from tally.language.report_period import ReportArguments, ReportPeriodError, read_report_arguments

REPORT_TIMEOUT_S: Final = 10.0
"""How long the gateway waits for the executor's report (seconds)."""


def report_language(message: Message, text: str = "") -> Language:
    """The language of ``text``, else of the sender's Telegram client."""
    user = message.from_user
    return detect_language(text, user.language_code if user else None)


async def report_arguments(
    message: Message, ctx: GatewayContext, kind: ReportKind, args: str | None, language: Language
) -> ReportArguments | None:
    """The command's arguments read on the chat's calendar (its zone; UTC when it has none or
    an unknown one), or None once the asker was told why they cannot be read."""
    today = datetime.now(chat_zone(ctx.chat_settings.get(message.chat.id).timezone)).date()
    try:
        return read_report_arguments(kind, args, today=today, language=language)
    except ReportPeriodError as error:
        await ctx.send(message.chat.id, error.message)
        return None


def report_request(
    message: Message,
    ctx: GatewayContext,
    kind: ReportKind,
    arguments: ReportArguments,
    language: Language,
    **fields: Any,
) -> ChatReportRequested:
    """The request for ``kind`` of this chat over the arguments' period; a /top also names
    its size and measure; ``fields`` add the rest (a member's ``user_id``/``username``)."""
    top = {"limit": arguments.limit or DEFAULT_TOP, "by": arguments.by} if kind == "top" else {}
    return ChatReportRequested(
        chat_id=message.chat.id,
        kind=kind,
        first=arguments.period.first,
        last=arguments.period.last,
        language=language,
        timezone=ctx.chat_settings.get(message.chat.id).timezone,
        **top,
        **fields,
    )


async def fetch_report(ctx: GatewayContext, request: ChatReportRequested) -> ChatReport | None:
    """The executor's report, or None (logged) when it did not answer in time or sensibly."""
    return await request_reply(
        ctx.broker,
        request,
        ctx.subjects.chat_report,
        ChatReport,
        timeout_s=REPORT_TIMEOUT_S,
        span="telegram report",
        attributes={"tally.report": request.kind},
    )
