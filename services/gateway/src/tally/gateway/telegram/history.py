"""A group's history sent to the bot: an admin sends the group's Telegram Desktop export
(``result.json``) in a private chat, and its messages become chat events, as
``tally import-chat`` makes them.

The file is checked against :data:`~tally.gateway.domain.history.MAX_EXPORT_BYTES` (the
Bot API lets a bot download up to 20 MB) before it is downloaded (``getFile``, then the
file itself into memory). It is read with :mod:`tally.contracts.chat_export` in a worker
thread, so the event loop keeps serving other chats: the header names the chat (``-100<id>``
for a supergroup), a first pass learns user ids and forum topics. Only the chat's creator
and administrators may import it, as Telegram says (``getChatMember``, kept 60 s by
:class:`~tally.gateway.telegram.chat_admins.ChatAdmins`); each attempt, allowed or refused,
is audited. The events are then published in file order on ``subjects.chat_event(chat,
kind)`` with ``Nats-Msg-Id`` set to their export-derived ids, 500 messages at a time: a file
sent again is all duplicates to JetStream, and ingest's writes are idempotent beyond its
duplicate window, so it changes no table. One import runs at a time per gateway.

A file that cannot be downloaded, or is not an export of a group (not JSON, no
``messages``, a channel), is answered with one sentence by the errors router
(:class:`ExportDownloadError` and :class:`~tally.contracts.chat_export.ChatExportError` are
user-facing); nothing is published then.
"""

import asyncio
import io
from collections.abc import Iterator
from typing import Final

import aiohttp
import structlog
from aiogram import F, Router
from aiogram.enums import ChatType
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import Document, Message, User

from tally.contracts.chat_events import ChatEvent
from tally.contracts.chat_export import (
    Converter,
    Directory,
    ExportedChat,
    exported_chat,
    read_header,
    read_messages,
)
from tally.contracts.events import AdminAuditEvent, Language
from tally.contracts.language import detect_language
from tally.gateway.context import GatewayContext
from tally.gateway.domain.history import Published, is_export, outcome, say, title_of, too_big
from tally.gateway.telegram.admins import publish_audit
from tally.gateway.telegram.filters import inline
from tally.infra.errors import UserFacingError

router: Final = Router(name=__name__)
router.message.filter(inline(F.chat.type == ChatType.PRIVATE))
AUDIT_COMMAND: Final = "import_chat"
CHUNK_MESSAGES: Final = 500
"""Messages converted (in the worker thread) before their events are published."""
DOWNLOAD_TIMEOUT_S: Final = 120
log = structlog.get_logger(__name__)


class ExportDownloadError(UserFacingError):
    """Telegram did not hand the export over (too big, or the download failed)."""


@router.message(inline(F.document))
async def export_sent(message: Message, ctx: GatewayContext) -> None:
    """A document in a private chat: imported when it is a group's export sent by one of that
    group's admins; otherwise one sentence says why not."""
    ctx.metrics.message("command")
    document, user = message.document, message.from_user
    if document is None or user is None:  # F.document and a private chat: neither happens
        return
    language = detect_language(message.caption or "", user.language_code)
    if not is_export(document.file_name, document.mime_type):
        await ctx.send(message.chat.id, say("not_export", language))
    elif too_big(document.file_size):
        await ctx.send(message.chat.id, say("too_big", language))
    elif ctx.history_import.locked():
        await ctx.send(message.chat.id, say("busy", language))
    else:
        async with ctx.history_import:
            await _import(ctx, message.chat.id, document, user, language)


async def _import(
    ctx: GatewayContext, chat_id: int, document: Document, user: User, language: Language
) -> None:
    data = await _download(ctx, document, language)
    chat, directory = await asyncio.to_thread(_first_pass, data)
    refusal = await _refusal(ctx, chat, user.id, language, detail=document.file_name or "")
    if refusal is not None:
        await ctx.send(chat_id, refusal)
        return
    reading = say("reading", language, title=title_of(chat), messages=directory.messages)
    await ctx.send(chat_id, reading)
    store_text = ctx.chat_settings.store_text(chat.chat_id)
    converter = Converter(chat, directory, store_text)
    published = await _publish(ctx, _chunks(data, converter), chat.chat_id)
    reply = outcome(chat, converter.tally, published, store_text=store_text, language=language)
    await ctx.send(chat_id, reply)


async def _download(ctx: GatewayContext, document: Document, language: Language) -> bytes:
    """The file's bytes. Raises ExportDownloadError when Telegram would not hand it over
    (logged): too big (its ``getFile`` size, or Telegram's "file is too big"), or failed."""
    try:
        file = await ctx.bot.get_file(document.file_id)
        if too_big(file.file_size):
            raise ExportDownloadError(say("too_big", language))
        if file.file_path is None:
            raise ExportDownloadError(say("download_failed", language))
        buffer = io.BytesIO()
        await ctx.bot.download_file(file.file_path, buffer, timeout=DOWNLOAD_TIMEOUT_S)
    except TelegramBadRequest as error:
        log.warning("export not downloaded", error=error.message)
        key = "too_big" if "too big" in error.message.lower() else "download_failed"
        raise ExportDownloadError(say(key, language)) from None
    except (TelegramAPIError, aiohttp.ClientError, TimeoutError) as error:
        log.warning("export not downloaded", error=repr(error))
        raise ExportDownloadError(say("download_failed", language)) from None
    return buffer.getvalue()


def _first_pass(data: bytes) -> tuple[ExportedChat, Directory]:
    """The export's chat and what its messages say about users and topics. Raises
    ChatExportError for a file that is no group's export (one sentence)."""
    chat = exported_chat(read_header(io.BytesIO(data)))
    directory = Directory()
    for raw in read_messages(io.BytesIO(data)):
        directory.learn(raw)
    return chat, directory


async def _refusal(
    ctx: GatewayContext, chat: ExportedChat, user_id: int, language: Language, *, detail: str
) -> str | None:
    """Why ``user_id`` may not import ``chat`` (audited either way); None when they may: the
    chat is one this bot serves and Telegram lists them as its creator or an admin."""
    allowed_chats = ctx.settings.allowed_chats()
    if allowed_chats is not None and chat.chat_id not in allowed_chats:
        refusal: str | None = say("not_allowed", language, chat_id=chat.chat_id)
    elif await ctx.chat_admins.is_admin(ctx.bot, chat.chat_id, user_id):
        refusal = None
    else:
        refusal = say("not_admin", language, title=title_of(chat))
    audit = AdminAuditEvent(
        user_id=user_id,
        chat_id=chat.chat_id,
        command=AUDIT_COMMAND,
        allowed=refusal is None,
        detail=detail,
    )
    await publish_audit(ctx, audit)
    return refusal


def _chunks(data: bytes, converter: Converter) -> Iterator[list[ChatEvent]]:
    """The events of ``CHUNK_MESSAGES`` messages at a time, in file order."""
    pending: list[ChatEvent] = []
    for count, raw in enumerate(read_messages(io.BytesIO(data)), start=1):
        pending.extend(converter.convert(raw))
        if count % CHUNK_MESSAGES == 0:
            yield pending
            pending = []
    yield pending


async def _publish(
    ctx: GatewayContext, chunks: Iterator[list[ChatEvent]], chat_id: int
) -> Published:
    """Convert (in a worker thread) and publish chunk after chunk; stop at the first event
    JetStream does not confirm."""
    published = Published()
    while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
        published += await ctx.chat_events.publish_history(chunk, chat_id=chat_id)
        if published.failed:
            break
    return published
