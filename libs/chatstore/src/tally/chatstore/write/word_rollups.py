"""Count the text already stored into ``chat_words_daily`` and ``chat_hashtags_daily``: what
migration 0009 cannot do (words are counted in Python, :mod:`tally.chatstore.tokens`), for a
database upgraded with text in it, and for the dashboard bench's generated messages."""

from sqlalchemy import delete, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tally.chatstore.tables import CHAT_HASHTAGS_DAILY, CHAT_WORDS_DAILY
from tally.chatstore.write import rollup_statements as rollup_sql
from tally.chatstore.write import statements as sql
from tally.chatstore.write.rollups import Rollups

STORED_TEXT = text(
    "SELECT m.chat_id, (m.sent_at AT TIME ZONE c.timezone)::date, m.text, m.hashtags"
    " FROM messages AS m JOIN chats AS c USING (chat_id) WHERE m.text IS NOT NULL"
)


async def recount_words(connection: AsyncConnection) -> int:
    """Replace both rollups by a count of every stored text, in ``connection``'s
    transaction; returns the number of texts counted. Raises SQLAlchemyError."""
    rollups, texts = Rollups(), 0
    for chat_id, day, stored, hashtags in await connection.execute(STORED_TEXT):
        rollups.text(chat_id, day, stored, hashtags > 0, 1)
        texts += 1
    await connection.execute(delete(CHAT_WORDS_DAILY))
    await connection.execute(delete(CHAT_HASHTAGS_DAILY))
    words, tags = rollups.text_rows()
    for statement, columns in (
        (rollup_sql.UPSERT_CHAT_WORDS_DAILY, words),
        (rollup_sql.UPSERT_CHAT_HASHTAGS_DAILY, tags),
    ):
        if columns:
            await sql.execute_batch(connection, statement, columns)
    return texts
