"""In groups: a member's own stats and another member's (issue 15).

- ``/me [period]``: the asker's activity in this chat (anyone in the group may ask);
- ``/user @name [period]``: that member's (a name no member of the chat has is answered
  "No member @name has written in this chat.");
- a question to the bot (``/ask ...``, a message starting with the bot's @username, or a
  reply to the bot) that is exactly one of :data:`OWN_STATS_PHRASES` (case, spaces and final
  ``?!.`` aside) is ``/me`` over the default period, before it could reach nl2sql.

The period is read as for the other reports (tally.language.report_period, on the chat's
calendar). The executor answers a ``member`` :class:`ChatReportRequested` from this chat's
data only; the reply is a card (tally.gateway.domain.personal). Throttled like the other
group requests.
"""

import re
from typing import Final

from aiogram import Bot, F, Router
from aiogram.enums import ChatType, ParseMode
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import Message

from tally.gateway.context import GatewayContext
from tally.gateway.domain.personal import member_card
from tally.gateway.domain.texts import say
from tally.gateway.telegram.filters import inline
from tally.gateway.telegram.groups import Addressed
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

OWN_STATS_PHRASES: Final = frozenset(
    {
        "how am i doing",
        "my stats",
        "my statistics",
        "моя статистика",
        "как мои дела",
        "как у меня дела",
    }
)
"""Questions to the bot answered as /me: an exact, short list (anything else goes to the
question reader, which would not know whom "my" means)."""
_ASK: Final = re.compile(r"^/ask(?:@\w+)?(?:\s+(?P<question>.*))?$", re.IGNORECASE | re.DOTALL)
_USERNAME: Final = re.compile(r"^@?(?P<name>[A-Za-z0-9_]{1,64})(?:\s+(?P<rest>.*))?$", re.DOTALL)


def own_stats_phrase(text: str) -> bool:
    """True when ``text`` is one of OWN_STATS_PHRASES (case, inner spaces and a final
    ``?``/``!``/``.`` aside)."""
    return " ".join(text.lower().rstrip("?!. ").split()) in OWN_STATS_PHRASES


class AsksOwnStats(Filter):
    """A question to the bot (``/ask``, a mention, a reply) that is an own-stats phrase."""

    async def __call__(self, message: Message, bot: Bot) -> bool:
        text = (message.text or "").strip()
        asked = _ASK.match(text)
        if asked:
            return own_stats_phrase(asked["question"] or "")
        found = await Addressed()(message, bot)
        return isinstance(found, dict) and own_stats_phrase(found["question"])


@router.message(Command("me"))
async def me(message: Message, command: CommandObject, ctx: GatewayContext) -> None:
    """``/me [period]``: the asker's stats in this chat."""
    ctx.metrics.message("command")
    await _member_report(message, ctx, command.args, user_id=_asker(message))


@router.message(inline(F.text), AsksOwnStats())
async def own_stats(message: Message, ctx: GatewayContext) -> None:
    """An own-stats phrase to the bot: /me over the default period, in the phrase's
    language."""
    ctx.metrics.message("command")
    await _member_report(message, ctx, None, user_id=_asker(message), said=message.text or "")


@router.message(Command("user"))
async def user(message: Message, command: CommandObject, ctx: GatewayContext) -> None:
    """``/user @name [period]``: that member's stats in this chat."""
    ctx.metrics.message("command")
    named = _USERNAME.match((command.args or "").strip())
    if named is None:
        await ctx.send(message.chat.id, say("user_usage", report_language(message)))
        return
    await _member_report(message, ctx, named["rest"], username=named["name"])


def _asker(message: Message) -> int | None:
    return message.from_user.id if message.from_user else None


async def _member_report(
    message: Message,
    ctx: GatewayContext,
    args: str | None,
    *,
    user_id: int | None = None,
    username: str | None = None,
    said: str = "",
) -> None:
    """Ask the executor for the member's report over the period ``args`` names and send the
    card (or the executor's sentence, or why the period cannot be read), in the language of
    ``said`` (else of ``args``, else the asker's)."""
    language = report_language(message, said or args or "")
    chat_id = message.chat.id
    if user_id is None and username is None:
        await ctx.send(chat_id, say("user_usage", language))
        return
    arguments = await report_arguments(message, ctx, "member", args, language)
    if arguments is None:
        return
    request = report_request(
        message, ctx, "member", arguments, language, user_id=user_id, username=username
    )
    found = await fetch_report(ctx, request)
    if found is None:
        await ctx.send(chat_id, say("report_failed", language))
    elif found.error or found.member is None:
        await ctx.send(chat_id, found.error or say("report_failed", language))
    else:
        await ctx.send(chat_id, member_card(found, language), parse_mode=ParseMode.HTML)
