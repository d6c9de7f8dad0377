"""/start, /help and /sql, and a hint for any other command (private chats only)."""

from typing import Final

from aiogram import F, Router
from aiogram.enums import ChatType, ParseMode
from aiogram.filters import Command, CommandObject
from aiogram.types import Message

from tally.contracts.language import detect_language
from tally.gateway.context import GatewayContext
from tally.gateway.domain.texts import explain, help_text, say
from tally.gateway.telegram.filters import MAYBE_COMMAND, inline

router: Final = Router(name=__name__)
router.message.filter(MAYBE_COMMAND, inline(F.chat.type == ChatType.PRIVATE))


@router.message(Command("start", "help"))
async def show_help(message: Message, command: CommandObject, ctx: GatewayContext) -> None:
    """Reply with what Tally does and four example questions, in the user's language."""
    ctx.metrics.message("command")
    language = detect_language(command.args or "", _language_code(message))
    await ctx.send(message.chat.id, help_text(language), parse_mode=ParseMode.HTML)


@router.message(Command("sql"))
async def show_sql(message: Message, ctx: GatewayContext) -> None:
    """Reply with the SQL, parameters and interpretation behind this chat's last answer."""
    ctx.metrics.message("command")
    answer = await ctx.last_answers.last(message.chat.id)
    if answer is None:
        language = detect_language("", _language_code(message))
        await ctx.send(message.chat.id, say("no_answer", language))
        return
    await ctx.send(message.chat.id, explain(answer), parse_mode=ParseMode.HTML)


@router.message(inline(F.text.startswith("/")))
async def unknown_command(message: Message, ctx: GatewayContext) -> None:
    """Point at /help for a command the bot does not know."""
    ctx.metrics.message("command")
    language = detect_language("", _language_code(message))
    await ctx.send(message.chat.id, say("unknown_command", language))


def _language_code(message: Message) -> str | None:
    return message.from_user.language_code if message.from_user else None
