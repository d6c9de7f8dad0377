"""Messages and members per forum topic (``messages.thread_id``; ``ix_messages_chat_sent``).

Topic titles are not stored anywhere in Tally (the gateway does not capture
``forum_topic_created`` / ``forum_topic_edited``), so topics are known by id only."""

from sqlalchemy import distinct, func, select

from tally.chatstore.read.connection import Database, fetch_all
from tally.chatstore.read.conversation import sent_in
from tally.chatstore.read.periods import Period
from tally.chatstore.tables import MESSAGES
from tally.contracts.group_reports import TopicActivity, TopicCount


async def topic_activity(db: Database, chat_id: int, period: Period) -> TopicActivity:
    """Every topic of chat ``chat_id`` with messages in ``period``: messages and distinct
    members who posted (anonymous posts count as messages, not members); busiest first,
    then by thread id (the general topic, None, last among equals)."""
    m = MESSAGES.c
    statement = (
        select(
            m.thread_id,
            func.count().label("messages"),
            func.count(distinct(m.user_id)).label("members"),
        )
        .where(*sent_in(MESSAGES, chat_id, period))
        .group_by(m.thread_id)
        .order_by(func.count().desc(), m.thread_id.asc().nulls_last())
    )
    topics = [TopicCount.model_validate(row) for row in await fetch_all(db, statement)]
    return TopicActivity(chat_id=chat_id, start=period.start, end=period.end, topics=topics)
