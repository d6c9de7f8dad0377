"""The most written words of a period, per language, for chats that store text.

Words are read from ``chat_words_daily``, which ingest counts from the text it stores (what a
word is: :mod:`tally.chatstore.tokens`) and empties when the chat turns text storage off.

When the chat does not store text the answer refuses: words are never estimated from word
counts or anything else.
"""

from sqlalchemy import func, select

from tally.chatstore.read.connection import Database, fetch_all
from tally.chatstore.read.conversation import stores_text
from tally.chatstore.read.errors import StatsRequestError
from tally.chatstore.read.periods import Period
from tally.chatstore.tables import CHAT_WORDS_DAILY
from tally.chatstore.tokens import LANGUAGES
from tally.contracts.events import Language
from tally.contracts.group_reports import TopWords, WordCount

TOP_WORDS = 20
NO_TEXT = (
    "This chat does not store message text, so its words cannot be counted. "
    "An admin can turn text storage on in the chat's settings; words are counted from then on."
)


async def _top(
    db: Database, chat_id: int, period: Period, language: Language, limit: int
) -> list[WordCount]:
    daily = CHAT_WORDS_DAILY.c
    count = func.sum(daily.count)
    statement = (
        select(daily.word, count.label("count"))
        .where(daily.chat_id == chat_id, daily.day.between(period.start, period.end))
        .where(daily.language == language)
        .group_by(daily.word)
        .having(count > 0)
        .order_by(count.desc(), daily.word)
        .limit(limit)
    )
    return [WordCount.model_validate(row) for row in await fetch_all(db, statement)]


async def top_words(
    db: Database,
    chat_id: int,
    period: Period,
    language: Language | None = None,
    limit: int = TOP_WORDS,
) -> TopWords:
    """The ``limit`` most written words of chat ``chat_id`` in ``period`` for ``language``
    (both when None; ties alphabetical). A chat that does not store text gets a refusal
    (``text_stored`` False). Raises StatsRequestError for an unknown language or a limit
    outside 1..100."""
    if language is not None and language not in LANGUAGES:
        raise StatsRequestError(f"words are counted in {', '.join(LANGUAGES)}.")
    if not 1 <= limit <= 100:
        raise StatsRequestError("a top lists 1 to 100 words.")
    answer = {"chat_id": chat_id, "start": period.start, "end": period.end}
    if not await stores_text(db, chat_id):
        return TopWords(**answer, text_stored=False, refusal=NO_TEXT, words={})
    wanted = [language] if language else list(LANGUAGES)
    words = {name: await _top(db, chat_id, period, name, limit) for name in wanted}
    return TopWords(**answer, text_stored=True, words=words)
