"""The results of the group reports (personal stats, tops by a measure, what is captured,
reactions, replies, topics, member flow, top words), read by :mod:`tally.chatstore.read` and
carried in :class:`tally.contracts.chat_reports.ChatReport` to Telegram and returned as JSON
by the dashboard: the same numbers in both places.

Dates are local calendar days in the chat's zone; periods are inclusive of both ends.
Instants are timezone-aware.
"""

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

MemberMeasure = Literal["messages", "words", "reactions", "replies"]


class Member(BaseModel):
    """A chat member as reports name them: ``label`` is ``@username``, else the first and
    last name, else ``id<user_id>``."""

    user_id: int
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    label: str


class MemberCount(BaseModel):
    """A member and a count (messages, reactions, replies: the report says which)."""

    member: Member
    count: int


class MemberFigures(BaseModel):
    """A member's figures over local days ``start``..``end``: messages and words posted, days
    with a message, ``rank`` by messages among the chat's members who posted (1 = most; ties
    share a rank; None when the member posted nothing), the longest run of consecutive
    active days, reactions received on their messages sent in the period and reactions they
    gave to messages sent in the period (see :class:`ReactionStats` for how reactions
    count)."""

    start: date
    end: date
    messages: int
    words: int
    active_days: int
    rank: int | None
    longest_streak: int
    reactions_received: int
    reactions_given: int


class HourCount(BaseModel):
    """Messages in local hour ``hour`` (0 = 00:00-00:59) of every day of the period."""

    hour: int = Field(ge=0, le=23)
    messages: int


class MemberStats(BaseModel):
    """One member's report: ``figures`` for the period, ``previous`` for the period of equal
    length before it; the member's favourite local hours (up to 3, busiest first), the
    members they reply to most and who reply to them most (up to 3 each, by replies sent in
    the period; replies to oneself are left out)."""

    chat_id: int
    timezone: str
    member: Member
    figures: MemberFigures
    previous: MemberFigures
    favourite_hours: list[HourCount]
    replies_to: list[MemberCount]
    replied_by: list[MemberCount]


class TopMembers(BaseModel):
    """The members with the highest ``by`` in the period, highest first (ties by user id)."""

    chat_id: int
    start: date
    end: date
    by: MemberMeasure
    items: list[MemberCount]


class TypeCount(BaseModel):
    """Messages of one ``message_type`` (text, photo, video, voice, sticker, ...)."""

    message_type: str
    messages: int


class TagCount(BaseModel):
    """A hashtag (lower case, without ``#``) and how many times it was written."""

    tag: str
    count: int


class ContentBreakdown(BaseModel):
    """What was posted in the period: messages by type (most first), totals of links,
    mentions and hashtags (entities Telegram marked), forwarded messages and replies.
    ``top_hashtags`` is None when the chat does not store text (``text_stored`` False):
    hashtags are then only counted, never named."""

    chat_id: int
    start: date
    end: date
    messages: int
    by_type: list[TypeCount]
    links: int
    mentions: int
    hashtags: int
    forwards: int
    replies: int
    text_stored: bool
    top_hashtags: list[TagCount] | None


class EmojiCount(BaseModel):
    """A reaction (an emoji, or ``custom:<id>``) and how many times it stands."""

    emoji: str
    count: int


class MessageReactions(BaseModel):
    """A message, its author (None: anonymous admin or channel) and the reactions it has."""

    message_id: int
    sent_at: datetime
    author: Member | None
    reactions: int


class ReactionStats(BaseModel):
    """Reactions standing on the messages sent in the period.

    Two tables hold them: ``reactions`` (one row per named user and emoji) and
    ``reaction_counts`` (Telegram's totals for messages whose reactions are anonymous). Per
    message and emoji the count is the larger of the two (a total already includes the named
    reactions it covers, so they are never added twice). ``given`` counts named reactions
    only (an anonymous one has no giver).
    """

    chat_id: int
    start: date
    end: date
    total: int
    top_emoji: list[EmojiCount]
    top_messages: list[MessageReactions]
    received: list[MemberCount]
    given: list[MemberCount]


class ReplyPair(BaseModel):
    """``replies`` replies ``replier`` sent to messages of ``replied_to``."""

    replier: Member
    replied_to: Member
    replies: int


class ReplyStats(BaseModel):
    """Replies sent in the period: the busiest pairs (replier -> replied-to, self-replies
    left out), the median delay in seconds between a message and a reply to it (None
    without any), and ``reply_share`` = ``replies / messages`` (0 without messages).

    Pairs and the delay need the original message stored (sent after Tally joined, not
    deleted by retention); ``replies`` counts every reply."""

    chat_id: int
    start: date
    end: date
    messages: int
    replies: int
    reply_share: float
    median_delay_seconds: float | None
    top_pairs: list[ReplyPair]


class TopicCount(BaseModel):
    """Messages and distinct members who posted in one forum topic (``thread_id`` None: the
    general topic, or a chat without topics). ``title`` is None: Tally does not store topic
    titles (forum topic service messages are not captured)."""

    thread_id: int | None
    title: str | None = None
    messages: int
    members: int


class TopicActivity(BaseModel):
    """Every topic with messages in the period, busiest first."""

    chat_id: int
    start: date
    end: date
    topics: list[TopicCount]


class DayFlow(BaseModel):
    """Joins and leaves on local ``day``."""

    day: date
    joins: int
    leaves: int


class DayCount(BaseModel):
    """The chat's member count on local ``day``: Telegram's ``getChatMemberCount`` (bots
    included) in the day's last snapshot."""

    day: date
    count: int


class MemberFlow(BaseModel):
    """Who came and went in the period: joins and leaves per local day (every day, empty ones
    0), joins through an invite link, joins by someone adding the member (``added``; the rest
    joined on their own), the members who added most, and churn: of the distinct members who
    joined in the period, how many left after joining, within the period
    (``churn_rate`` = ``churned / joined``, None when nobody joined).

    ``member_counts``: the member count on the period's days that have a snapshot (the
    gateway takes one a day), in day order; days without one are left out, never filled in.
    ``count_first`` / ``count_last``: the first and last of them, ``count_change`` =
    ``count_last - count_first``; all None when the period has no snapshot."""

    chat_id: int
    timezone: str
    start: date
    end: date
    days: list[DayFlow]
    joins: int
    leaves: int
    via_link: int
    added: int
    top_inviters: list[MemberCount]
    joined_members: int
    churned: int
    churn_rate: float | None
    member_counts: list[DayCount] = Field(default_factory=list)
    count_first: int | None = None
    count_last: int | None = None
    count_change: int | None = None


class WordCount(BaseModel):
    """A word (lower case) and how many times it was written."""

    word: str
    count: int


class TopWords(BaseModel):
    """The most written words of the period per language (``ru``: Cyrillic words, ``en``:
    Latin ones), stop words left out. When the chat does not store text, ``text_stored`` is
    False, ``words`` empty and ``refusal`` says why: words are never guessed from anything
    else."""

    chat_id: int
    start: date
    end: date
    text_stored: bool
    refusal: str | None = None
    words: dict[str, list[WordCount]]
