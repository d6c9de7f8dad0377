"""Messages and members per forum topic, from ``chat_topic_daily`` (messages per local day)
and ``user_topic_monthly`` (each member's days in a topic as a bit mask per month; thread id
0 in both: messages outside any topic).

Topic titles are not stored anywhere in Tally (the gateway does not capture
``forum_topic_created`` / ``forum_topic_edited``), so topics are known by id only."""

from sqlalchemy import Date, any_, case, distinct, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY

from tally.chatstore.read.connection import Database, fetch_all
from tally.chatstore.read.periods import Period
from tally.chatstore.read.summary import day_mask, months_of
from tally.chatstore.tables import CHAT_TOPIC_DAILY, USER_TOPIC_MONTHLY
from tally.contracts.group_reports import TopicActivity, TopicCount

NO_TOPIC = 0
"""The rollups' thread id of messages outside any forum topic (None in the answer)."""


async def _members(db: Database, chat_id: int, period: Period) -> dict[int, int]:
    """Thread id -> distinct members who posted in it in ``period``."""
    monthly = USER_TOPIC_MONTHLY.c
    months = months_of(period.start, period.end)
    masks = {month: day_mask(month, period.start, period.end) for month in months}
    in_period = monthly.days.op("&")(case(masks, value=monthly.month, else_=0)) != 0
    statement = (
        select(monthly.thread_id, func.count(distinct(monthly.user_id)).label("members"))
        .where(monthly.chat_id == chat_id, monthly.month == any_(literal(months, ARRAY(Date))))
        .where(in_period)
        .group_by(monthly.thread_id)
    )
    return {row["thread_id"]: int(row["members"]) for row in await fetch_all(db, statement)}


async def topic_activity(db: Database, chat_id: int, period: Period) -> TopicActivity:
    """Every topic of chat ``chat_id`` with messages in ``period``: messages and distinct
    members who posted (anonymous posts count as messages, not members); busiest first,
    then by thread id (the general topic, None, last among equals)."""
    daily = CHAT_TOPIC_DAILY.c
    statement = (
        select(daily.thread_id, func.sum(daily.messages).label("messages"))
        .where(daily.chat_id == chat_id, daily.day.between(period.start, period.end))
        .group_by(daily.thread_id)
        .having(func.sum(daily.messages) > 0)
    )
    members = await _members(db, chat_id, period)
    topics = [
        TopicCount(
            thread_id=None if row["thread_id"] == NO_TOPIC else row["thread_id"],
            messages=int(row["messages"]),
            members=members.get(row["thread_id"], 0),
        )
        for row in await fetch_all(db, statement)
    ]
    topics.sort(key=lambda t: (-t.messages, t.thread_id is None, t.thread_id or 0))
    return TopicActivity(chat_id=chat_id, start=period.start, end=period.end, topics=topics)
