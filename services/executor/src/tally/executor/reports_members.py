"""Member reports: one member's stats (/me, /user) and tops by a measure (/top by words).

Both read :mod:`tally.chatstore.read` for the requesting chat only: a member's report shows
only what they did in this chat (messages, words, reactions, replies), never another chat.
"""

from typing import Final

from tally.chatstore import read as chat_stats
from tally.chatstore.read import Period
from tally.contracts.chat_reports import ChatReportRequested
from tally.contracts.events import Language
from tally.contracts.group_reports import MemberStats, TopMembers
from tally.infra.errors import UserFacingError

UNKNOWN_MEMBER: Final[dict[Language, str]] = {
    "en": "No member @{name} has written in this chat.",
    "ru": "Участник @{name} в этом чате не писал.",
}
"""The answer to /user @name for a name no member of the chat has."""


class UnknownMemberError(UserFacingError):
    """No member of the chat has the username asked about."""


async def member_report(
    db: chat_stats.Database, request: ChatReportRequested, period: Period
) -> MemberStats:
    """The stats of the member the request names (``user_id``, else ``username`` looked up
    among this chat's members) over ``period``. Raises UnknownMemberError (in the request's
    language) when neither names a member of the chat."""
    user_id = request.user_id
    if user_id is None:
        name = (request.username or "").removeprefix("@")
        found = await chat_stats.find_member(db, request.chat_id, name) if name else None
        if found is None:
            raise UnknownMemberError(UNKNOWN_MEMBER[request.language].format(name=name))
        user_id = found.user_id
    return await chat_stats.member_stats(db, request.chat_id, user_id, period)


async def top_report(
    db: chat_stats.Database, request: ChatReportRequested, period: Period
) -> TopMembers:
    """The ``request.limit`` members with the most ``request.by`` in ``period``."""
    return await chat_stats.top_members(
        db, request.chat_id, period, request.by, limit=request.limit
    )
