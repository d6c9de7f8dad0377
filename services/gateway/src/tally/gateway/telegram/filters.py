"""Magic filters run in the event loop.

aiogram runs a filter that is not a coroutine function in a worker thread
(``asyncio.to_thread``, aiogram/dispatcher/event/handler.py), and ``F.chat.type == ...`` is
one: every update paid one thread hop per router and handler filter it met, about a dozen for
a private question, about 15% of the gateway's CPU time per question (BENCHMARKS.md, "The
gateway's CPU per question"). A magic filter only reads attributes, so :func:`inline` runs
it where it is, as an async :class:`aiogram.filters.Filter`.

:data:`MAYBE_COMMAND` keeps a question out of the routers that take commands only: without
it, a private question met ten ``Command`` filters on its way to the questions router.
"""

from typing import Any, Final

from aiogram.filters import Filter
from aiogram.types import Message, TelegramObject
from magic_filter import MagicFilter


class Inline(Filter):
    """``magic`` (a magic filter) resolved against the event in the event loop: what aiogram
    would make of ``magic`` itself (its result: falsy drops the event, a dict is added to the
    handler's data), without the thread."""

    def __init__(self, magic: MagicFilter) -> None:
        self.magic = magic

    async def __call__(self, event: TelegramObject) -> Any:
        return self.magic.resolve(event)

    def __str__(self) -> str:
        return f"Inline({self.magic!r})"


def inline(magic: MagicFilter) -> Inline:
    """``router.message.filter(inline(F.chat.type == ChatType.PRIVATE))``: see :class:`Inline`."""
    return Inline(magic)


class MaybeCommand(Filter):
    """Lets in a message whose text (or caption) starts with ``/``: the only ones a
    ``Command`` filter (aiogram's default prefix) can match. On a router whose message
    handlers all take commands, a question skips their ``Command`` filters with one check
    (each filter splits the text, and raises and catches an exception on its prefix)."""

    async def __call__(self, event: TelegramObject) -> bool:
        if not isinstance(event, Message):
            return False
        text = event.text or event.caption
        return text is not None and text.startswith("/")

    def __str__(self) -> str:
        return "MaybeCommand()"


MAYBE_COMMAND: Final = MaybeCommand()
"""``router.message.filter(MAYBE_COMMAND)``: see :class:`MaybeCommand`."""
