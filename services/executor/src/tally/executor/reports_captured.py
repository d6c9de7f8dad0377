"""What is captured (/content, /reactions, /replies, /topics, /members, /words): the group
reports the dashboard serves too, read by :mod:`tally.chatstore.read` for one chat and period.

The period is the request's local days (:meth:`ChatReportRequested.span` of today in the
chat's zone, UTC when the request names no known zone); each kind fills one field of the
:class:`ChatReport` with the read model's own result, so Telegram and the dashboard show the
same numbers. A chat that does not store text gets /words as the read model's refusal
(``words.refusal``), not an error.
"""

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Final

from pydantic import BaseModel

from tally.chatstore import read as chat_stats
from tally.chatstore.read import Period
from tally.contracts.chat_reports import ChatReport, ChatReportRequested, ReportKind

Read = Callable[[chat_stats.Database, ChatReportRequested, Period], Awaitable[BaseModel]]

_READS: Final[dict[ReportKind, tuple[str, Read]]] = {
    "content": ("content", lambda db, r, p: chat_stats.content_breakdown(db, r.chat_id, p)),
    "reactions": (
        "reactions",
        lambda db, r, p: chat_stats.reaction_stats(db, r.chat_id, p, r.limit),
    ),
    "replies": ("replies", lambda db, r, p: chat_stats.reply_stats(db, r.chat_id, p, r.limit)),
    "topics": ("topics", lambda db, r, p: chat_stats.topic_activity(db, r.chat_id, p)),
    "members": ("flow", lambda db, r, p: chat_stats.member_flow(db, r.chat_id, p, r.limit)),
    "words": ("words", lambda db, r, p: chat_stats.top_words(db, r.chat_id, p)),
}
"""Each kind: the ChatReport field it fills and the read that fills it (the tops list
``request.limit`` entries; words the read model's default per language)."""
CAPTURED: Final = frozenset(_READS)
"""The kinds this module answers."""


def period_of(request: ChatReportRequested, now: datetime) -> Period:
    """The request's local days in its zone (UTC for a name that is not an IANA zone), the
    default ``days`` ending today (``now`` there). Raises StatsRequestError for a period
    longer than the read model allows."""
    zone = chat_stats.zone(request.timezone if chat_stats.is_timezone(request.timezone) else "UTC")
    first, last = request.span(now.astimezone(zone).date())
    return Period(first, last, zone)


async def captured_report(
    request: ChatReportRequested, db: chat_stats.Database, *, now: datetime
) -> ChatReport:
    """The report of ``request.kind`` (one of CAPTURED) for ``request.chat_id`` only, over
    :func:`period_of`. Raises KeyError for another kind, StatsRequestError (a
    UserFacingError) for a request the read model refuses, and the database's errors."""
    field, read = _READS[request.kind]
    period = period_of(request, now)
    result = await read(db, request, period)
    chat = await chat_stats.get_chat(db, request.chat_id)
    return ChatReport(
        chat_id=request.chat_id,
        kind=request.kind,
        title=chat.title if chat else None,
        timezone=period.timezone,
        first=period.start,
        last=period.end,
        **{field: result},
    )
