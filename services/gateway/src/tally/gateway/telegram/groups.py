"""In groups: questions about the chat, and the report commands /stats, /top, /heatmap and
/activity.

A group message is a question when it is ``/ask <question>``, starts with the bot's
@username, or replies to one of the bot's messages; it is published as ``QuestionAsked``
with the group's id and time zone, so the executor answers it from this chat's data only.
Other group messages are only captured (tally.gateway.telegram.capture). A member's questions
and reports are throttled (:class:`GroupThrottlingMiddleware`, ``GROUP_THROTTLE_INTERVAL_S``),
so one member flooding the bot cannot fill the group's sending pace with their answers.

A report command takes an optional period (``/stats 30``, ``/stats last week``, ``/heatmap
2025-11``; default the last 7 days), read on the chat's calendar (its time zone, UTC when it
has none or an unknown one) by :func:`tally.language.report_period.read_report_arguments`;
/top also a size and a measure (``/top 5 by messages``). It asks the executor for a
:class:`ChatReport` of those days (core NATS request) and replies with a text card naming
the period and zone, and for /stats and /heatmap a chart drawn in a worker thread. A period
that cannot be read is answered with the reason, in the asker's language.
"""

import asyncio
import time
from typing import Any, Final, cast, get_args

import structlog
from aiogram import Bot, F, Router
from aiogram.enums import ChatType, ParseMode
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import Message
from opentelemetry import trace

from tally.contracts.chat_reports import (
    ChatReport,
    ChatReportRequested,
    ReportKind,
)
from tally.contracts.events import Language, QuestionAsked
from tally.gateway.context import GatewayContext
from tally.gateway.domain import personal, reports
from tally.gateway.domain.texts import MAX_QUESTION_CHARS, say
from tally.gateway.telegram.filters import inline
from tally.gateway.telegram.middlewares import GroupThrottlingMiddleware
from tally.gateway.telegram.report_requests import (
    fetch_report,
    report_arguments,
    report_language,
    report_request,
)

router: Final = Router(name=__name__)
router.message.filter(inline(F.chat.type.in_({ChatType.GROUP, ChatType.SUPERGROUP})))
router.message.middleware(GroupThrottlingMiddleware())

REPORTS: Final[tuple[ReportKind, ...]] = tuple(k for k in get_args(ReportKind) if k != "member")
"""The report commands (/stats, /top, ...); a member's report is /me or /user (personal.py)."""
tracer: Final = trace.get_tracer("tally.gateway")
log = structlog.get_logger(__name__)


async def _ask(message: Message, text: str, ctx: GatewayContext) -> None:
    """Publish ``text`` as this group's question (in its time zone) and await its answer
    (domain.reasks)."""
    user = message.from_user
    question = QuestionAsked(
        channel="telegram",
        chat_id=message.chat.id,
        user_id=user.id if user else message.chat.id,
        language=report_language(message, text),
        text=text,
        timezone=ctx.chat_settings.get(message.chat.id).timezone,
        reply_to=ctx.settings.gateway_instance,
    )
    with tracer.start_as_current_span("telegram receive") as span:
        span.set_attribute("tally.question_id", str(question.question_id))
        await ctx.broker.publish(question, ctx.subjects.question_asked)
    ctx.reasks.asked(question, time.monotonic())


@router.message(Command("ask"))
async def ask(message: Message, command: CommandObject, ctx: GatewayContext) -> None:
    """``/ask <question>``: a question about this chat (or the video statistics)."""
    ctx.metrics.message("question")
    text = (command.args or "").strip()
    if not 1 <= len(text) <= MAX_QUESTION_CHARS:
        await ctx.send(message.chat.id, say("ask_usage", report_language(message)))
        return
    await _ask(message, text, ctx)


@router.message(Command(*REPORTS))
async def report(message: Message, command: CommandObject, ctx: GatewayContext) -> None:
    """A report of this chat over the period the command names (``/stats 30``, ``/top 5
    last week``, ``/activity 2025-11``; tally.language.report_period), read on the chat's
    own calendar. A period that cannot be read is answered with why."""
    ctx.metrics.message("command")
    request = await _request(message, command, ctx)
    if request is None:
        return
    found = await fetch_report(ctx, request)
    if found is None:
        await ctx.send(message.chat.id, say("report_failed", request.language))
        return
    await _send_report(ctx, message.chat.id, found, request.language)


async def _request(
    message: Message, command: CommandObject, ctx: GatewayContext
) -> ChatReportRequested | None:
    """The request the command makes, or None once the asker was told why there is none (a
    period, size or measure that cannot be read)."""
    language = report_language(message, command.args or "")
    kind = cast(ReportKind, command.command.lower())
    arguments = await report_arguments(message, ctx, kind, command.args, language)
    if arguments is None:
        return None
    return report_request(message, ctx, kind, arguments, language)


async def _send_report(
    ctx: GatewayContext, chat_id: int, found: ChatReport, language: Language
) -> None:
    html = ParseMode.HTML
    if found.error:
        await ctx.send(chat_id, found.error)
        return
    match found.kind:
        case "stats":
            chart = await asyncio.to_thread(reports.activity_chart, found, language)
            caption = reports.stats_card(found, language)
            await ctx.send_photo(chat_id, chart, caption=caption, parse_mode=html)
        case "heatmap":
            chart = await asyncio.to_thread(reports.heatmap_chart, found, language)
            caption = reports.heatmap_caption(found, language)
            await ctx.send_photo(chat_id, chart, caption=caption, parse_mode=html)
        case "top" if found.top is not None and found.top.by != "messages":
            await ctx.send(chat_id, personal.top_card(found, language), parse_mode=html)
        case "top":
            await ctx.send(chat_id, reports.top_text(found, language), parse_mode=html)
        case "activity":
            await ctx.send(chat_id, reports.activity_text(found, language), parse_mode=html)


class Addressed(Filter):
    """Matches a text message that starts with the bot's @username or replies to one of the
    bot's messages; the handler gets the question in it as ``question`` (at most
    MAX_QUESTION_CHARS characters; longer or empty ones do not match)."""

    async def __call__(self, message: Message, bot: Bot) -> bool | dict[str, Any]:
        text = (message.text or "").strip()
        me = await bot.me()
        mention = f"@{me.username}" if me.username else None
        question: str | None = None
        if mention and text.lower().startswith(mention.lower()):
            question = text[len(mention) :].strip(" ,:")
        elif _replies_to(message, me.id):
            question = text
        if not question or len(question) > MAX_QUESTION_CHARS:
            return False
        return {"question": question}


def _replies_to(message: Message, user_id: int) -> bool:
    reply = message.reply_to_message
    return reply is not None and reply.from_user is not None and reply.from_user.id == user_id


@router.message(inline(F.text), Addressed())
async def addressed(message: Message, question: str, ctx: GatewayContext) -> None:
    """A message that speaks to the bot is a question; others were only captured."""
    ctx.metrics.message("question")
    await _ask(message, question, ctx)
