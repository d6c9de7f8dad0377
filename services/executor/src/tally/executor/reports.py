"""Group reports (/stats, /top, /heatmap, /activity) from the chat rollups; what is captured
(/content, /reactions, ...) in :mod:`tally.executor.reports_captured`.

The executor answers a :class:`ChatReportRequested` with a :class:`ChatReport` for the
requesting chat only, read through :mod:`tally.chatstore.read` on the read-only pool.
Days are the chat's calendar days (the request's zone, UTC when it is not a known zone).
"""

from datetime import UTC, datetime

import structlog

from tally.chatstore import read as chat_stats
from tally.chatstore.read import Period, UsersQuery
from tally.contracts.chat_reports import ChatReport, ChatReportRequested, DayActivity, UserActivity
from tally.executor.reports_captured import CAPTURED, captured_report
from tally.executor.reports_members import member_report, top_report
from tally.executor.runner import Reader
from tally.infra.db.reader import diagnostic
from tally.infra.errors import UserFacingError

TOP_USERS = 10
log = structlog.get_logger(__name__)


def _label(user: chat_stats.UserStats) -> str:
    """@username, else the name, else the id."""
    if user.username:
        return f"@{user.username}"
    name = " ".join(part for part in (user.first_name, user.last_name) if part)
    return name or str(user.user_id)


def _period(request: ChatReportRequested, now: datetime) -> Period:
    """The request's days (:meth:`ChatReportRequested.span`), today being ``now`` in the
    chat's zone."""
    zone_name = request.timezone if chat_stats.is_timezone(request.timezone) else "UTC"
    tz = chat_stats.zone(zone_name)
    first, last = request.span(now.astimezone(tz).date())
    return Period(first, last, tz)


async def _daily(db: chat_stats.Database, chat_id: int, period: Period) -> tuple[DayActivity, ...]:
    messages = await chat_stats.timeseries(
        db, chat_id=chat_id, period=period, metric="messages", bucket="day"
    )
    dau = await chat_stats.timeseries(
        db, chat_id=chat_id, period=period, metric="dau", bucket="day"
    )
    return tuple(
        DayActivity(day=m.start.date(), messages=int(m.value), active_users=int(d.value))
        for m, d in zip(messages.points, dau.points, strict=True)
    )


async def _top(
    db: chat_stats.Database, chat_id: int, period: Period, size: int = TOP_USERS
) -> tuple[UserActivity, ...]:
    page = await chat_stats.users(db, chat_id=chat_id, period=period, query=UsersQuery(size=size))
    return tuple(
        UserActivity(label=_label(user), messages=user.messages, active_days=user.active_days)
        for user in page.items
    )


async def build_report(
    request: ChatReportRequested, db: chat_stats.Database, *, now: datetime
) -> ChatReport:
    """The report ``request`` asks for, over its days (:meth:`ChatReportRequested.span`,
    today being ``now`` in the chat's zone). Raises UserFacingError (chat_stats's, or
    UnknownMemberError) for a request it cannot answer, and the database's errors."""
    if request.kind in CAPTURED:
        return await captured_report(request, db, now=now)
    period = _period(request, now)
    chat_id = request.chat_id
    summary = await chat_stats.summary(db, chat_id=chat_id, period=period)
    chat = await chat_stats.get_chat(db, chat_id)
    report = ChatReport(
        chat_id=chat_id,
        kind=request.kind,
        title=chat.title if chat else None,
        timezone=period.timezone,
        first=period.start,
        last=period.end,
        messages=int(summary.messages.value),
        active_users=int(summary.active_users.value),
        new_members=int(summary.new_members.value),
        left_members=int(summary.left_members.value),
        previous_messages=int(summary.messages.previous),
        previous_active_users=int(summary.active_users.previous),
    )
    extra: dict[str, object] = {}
    if request.kind in ("stats", "activity"):
        extra["daily"] = await _daily(db, chat_id, period)
    if request.kind == "stats":
        extra["top_users"] = await _top(db, chat_id, period)
    if request.kind == "top":
        extra["top_users"] = await _top(db, chat_id, period, request.limit)
        extra["top"] = await top_report(db, request, period)
    if request.kind == "member":
        extra["member"] = await member_report(db, request, period)
    if request.kind == "heatmap":
        cells = await chat_stats.heatmap(db, chat_id=chat_id, period=period)
        extra["heatmap"] = tuple(tuple(row) for row in cells.cells)
    return report.model_copy(update=extra)


async def answer_report(request: ChatReportRequested, reader: Reader) -> ChatReport:
    """:func:`build_report` on the reader's pool; a failure is a report with ``error`` set (a
    sentence for the chat), never an exception."""
    now = datetime.now(UTC)
    try:
        return await build_report(request, await reader.pool(), now=now)
    except UserFacingError as error:
        message = error.message
    except Exception as error:  # the chat gets a sentence, the operator where it failed
        log.error(
            "chat report failed", chat_id=request.chat_id, kind=request.kind, **diagnostic(error)
        )
        message = "The statistics are not available right now; try again in a minute."
    today = now.date()
    return ChatReport(
        chat_id=request.chat_id,
        kind=request.kind,
        timezone=request.timezone,
        first=today,
        last=today,
        error=message,
    )
