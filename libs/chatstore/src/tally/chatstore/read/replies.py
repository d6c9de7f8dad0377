"""Who replies to whom, how fast, and how much of the talk is replies (replies sent in the
period), from rollups only, by the chat's local days:

* messages and replies: ``chat_content_daily``.
* the busiest pairs: each pair's replies over the period summed from ``reply_pairs_monthly``
  and ``reply_pairs_daily`` (whole months and at most 15 days at each end,
  :mod:`tally.chatstore.read.monthly`), but only for the pairs that can be in the top, which
  a bound finds (:func:`_least`, :func:`top_pairs_statement`). A period with no month
  covered more than half groups its days' ``reply_pairs_daily`` rows instead (at most 30
  days).
* the median delay: how many delays fall in each bucket (``reply_delay_buckets_monthly`` and
  ``_daily``) gives the buckets of the middle ones, and ``reply_delays_daily`` (the exact
  delays) the middle delays themselves (:func:`median_statement`).

Exact: the same figures as counting the raw rows (the tests compare both for many periods).
Ingest stores a reply's delay (``messages.reply_delay_s``, seconds) and the pairs when it
stores the reply, if it found the original; retention deletes raw rows but not rollups, so
the figures keep counting the replies it deleted.
"""

from functools import partial

from sqlalchemy import (
    CTE,
    BigInteger,
    Date,
    Integer,
    Subquery,
    any_,
    bindparam,
    cast,
    func,
    literal,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY

from tally.chatstore.read.bound import CHAT
from tally.chatstore.read.connection import Database, Statement, fetch_all, fetch_one, together
from tally.chatstore.read.conversation import ANONYMOUS, member, reply_pairs, with_names
from tally.chatstore.read.monthly import COVERED, cover_values, covered_sums, monthly_cover
from tally.chatstore.read.periods import Period
from tally.chatstore.read.rankings import check_limit
from tally.chatstore.read.summary import months_of
from tally.chatstore.tables import (
    CHAT_CONTENT_DAILY,
    REPLY_DELAY_BUCKETS_DAILY,
    REPLY_DELAY_BUCKETS_MONTHLY,
    REPLY_DELAYS_DAILY,
    REPLY_PAIRS_DAILY,
    REPLY_PAIRS_MONTHLY,
)
from tally.contracts.group_reports import ReplyPair, ReplyStats

Bound = tuple[Statement, dict[str, object]]
"""A statement and the values of its bind parameters by name."""


def _pair_sums(candidates: CTE) -> Subquery:
    """``(user_id, replied_user_id, replies)``: the replies in the period of each pair of
    ``candidates`` (rows ``user_id, replied_user_id``; repeats allowed) with a row in it:
    whole months from ``reply_pairs_monthly``, days from ``reply_pairs_daily``
    (:func:`tally.chatstore.read.monthly.covered_sums`). One semi-join of the candidates with
    the rollups' rows, whose plan PostgreSQL chooses from how many candidates it expects:
    an index probe per candidate for a few (the 90 days of the 10M bench: 89 candidates,
    1.3 ms), a hash join with the period's rows for many."""
    pair = ("user_id", "replied_user_id")
    among = select(candidates.c.user_id, candidates.c.replied_user_id)
    daily, monthly = REPLY_PAIRS_DAILY, REPLY_PAIRS_MONTHLY
    return covered_sums(daily, monthly, ("replies",), COVERED, keys=pair, among=among, chat_id=CHAT)


def _values(chat_id: int, period: Period, **values: object) -> dict[str, object]:
    """The bind parameters of the statements built once for chat ``chat_id`` and ``period``:
    the chat, the months the period touches (``touched``), its days (``start``, ``end``), its
    cover (:func:`tally.chatstore.read.monthly.cover_values`), and ``values``."""
    return {
        "chat_id": chat_id,
        "touched": months_of(period.start, period.end),
        "start": period.start,
        "end": period.end,
        **cover_values(period),
        **values,
    }


def _build_bar() -> Statement:
    monthly = REPLY_PAIRS_MONTHLY.c
    months = (
        func.unnest(bindparam("touched", type_=ARRAY(Date)))
        .table_valued("month")
        .render_derived(name="touched")
    )
    busiest = (
        select(monthly.user_id, monthly.replied_user_id)
        .where(
            monthly.chat_id == CHAT,
            monthly.month == months.c.month,
            monthly.user_id != ANONYMOUS,
        )
        .order_by(monthly.replies.desc())
        .limit(bindparam("limit", type_=Integer))
        .lateral("busiest")
    )
    first = (
        select(busiest.c.user_id, busiest.c.replied_user_id)
        .select_from(months)
        .join(busiest, true())
        .cte("first_candidates")
    )
    sums = _pair_sums(first)
    return (
        select(sums.c.replies)
        .where(sums.c.replies > 0)
        .order_by(sums.c.replies.desc())
        .offset(bindparam("offset", type_=Integer))
        .limit(1)
    )


BAR = _build_bar()


def bar_statement(chat_id: int, period: Period, limit: int) -> Bound:
    """One row ``(replies)``, or none: among each month's ``limit`` busiest pairs (replier
    not anonymous, ``ix_reply_pairs_monthly_top``) of the months ``period`` touches, the
    ``limit``-th highest number of replies over the period, when ``limit`` of them have any.
    At least ``limit`` pairs have that many replies or more (step 1 of :func:`_least`). For a
    period that covers a month more than half; built once (:data:`BAR`)."""
    return BAR, _values(chat_id, period, limit=limit, offset=limit - 1)


def _named(found: Subquery) -> Statement:
    """``found``'s rows (``replier_id, author_id, replies``) with both members' names."""
    joined, replier = with_names(found, found.c.replier_id, "replier_id")
    joined, author = with_names(joined, found.c.author_id, "author_id")
    return (
        select(found.c.replier_id, found.c.author_id, found.c.replies, *replier, *author)
        .select_from(joined)
        .order_by(found.c.replies.desc(), found.c.replier_id, found.c.author_id)
    )


def _build_top() -> Statement:
    monthly = REPLY_PAIRS_MONTHLY.c
    candidates = (
        select(monthly.user_id, monthly.replied_user_id)
        .where(
            monthly.chat_id == CHAT,
            monthly.month == any_(bindparam("touched", type_=ARRAY(Date))),
            monthly.replies >= bindparam("least", type_=BigInteger),
            monthly.user_id != ANONYMOUS,
        )
        .cte("candidates")
    )
    sums = _pair_sums(candidates)
    found = (
        select(
            sums.c.user_id.label("replier_id"),
            sums.c.replied_user_id.label("author_id"),
            sums.c.replies,
        )
        .where(sums.c.replies > 0)
        .order_by(sums.c.replies.desc(), sums.c.user_id, sums.c.replied_user_id)
        .limit(bindparam("limit", type_=Integer))
        .subquery("top_pairs")
    )
    return _named(found)


TOP = _build_top()


def top_pairs_statement(chat_id: int, period: Period, limit: int, least: int) -> Bound:
    """Rows ``(replier_id, author_id, replies, <names>)``: the ``limit`` pairs with the most
    replies in ``period`` (replier not anonymous), most first, ties by replier then author
    id, with both members' names (``<key>_username`` … of :func:`with_names`; the top is
    taken before the names are joined, so only ``limit`` pairs meet ``users``), among the
    pairs with ``least`` replies or more in one of the months ``period`` touches (all pairs
    when ``least`` is 1), built once (:data:`TOP`). A period that covers no month
    more than half groups its days' ``reply_pairs_daily`` rows instead (at most 30 days;
    ``least`` unused)."""
    if not monthly_cover(period.start, period.end).months:
        pairs = reply_pairs(chat_id, period)
        found = (
            select(pairs)
            .where(pairs.c.replier_id.is_not(None))
            .order_by(pairs.c.replies.desc(), pairs.c.replier_id, pairs.c.author_id)
            .limit(limit)
            .subquery("top_pairs")
        )
        return _named(found), {}
    return TOP, _values(chat_id, period, limit=limit, least=least)


async def _least(db: Database, chat_id: int, period: Period, limit: int) -> int:
    """The fewest replies a pair of the top can have in one of the M months ``period``
    touches (in whole or in part), exactly:

    1. ``bar``: at least ``limit`` pairs have ``bar`` replies or more over the period
       (:func:`bar_statement`; 1 when it finds fewer), so every pair of the top has.
    2. A pair's replies over the period are at most the sum of its M months' rows, so a pair
       with ``bar`` replies or more has at least ``ceil(bar / M)`` in one of the months.

    1 (every pair a candidate) for a period that covers no month more than half. The
    statements after this one see at least the counts it saw (ingest only adds to them), so
    the top still has ``bar`` replies or more when they run."""
    if not monthly_cover(period.start, period.end).months:
        return 1
    row = await fetch_one(db, *bar_statement(chat_id, period, limit))
    bar = int(row["replies"]) if row else 1
    months = len(months_of(period.start, period.end))
    return -(-bar // months)


async def _pairs(db: Database, chat_id: int, period: Period, limit: int) -> list[ReplyPair]:
    """The ``limit`` busiest pairs, named, exactly: among the pairs with :func:`_least`
    replies or more in a month (so the raw recount's top, whatever the data; how many
    candidates that is depends on how far the top stands out). The top is taken before the
    names are joined, so only ``limit`` pairs meet ``users``. Two statements: the candidates'
    threshold is a value the planner sees (with it unknown, it planned for a third of the
    months' pairs, and its cost set off JIT compilation: 37 ms of 49 at 10M)."""
    least = await _least(db, chat_id, period, limit)
    statement, values = top_pairs_statement(chat_id, period, limit, least)
    return [
        ReplyPair(
            replier=member(row, "replier_id"),
            replied_to=member(row, "author_id"),
            replies=int(row["replies"]),
        )
        for row in await fetch_all(db, statement, values)
    ]


def _build_median() -> Statement:
    """Rows ``(middle, delay)``, none without delays: with the period's N delays (seconds)
    in order, from 0, ``middle`` 0 gives the delay at rank ``floor((N - 1) / 2)`` and 1 that
    at ``floor(N / 2)`` (the same one when N is odd).

    The replies per bucket over the period (``reply_delay_buckets_monthly`` and ``_daily``),
    summed in bucket order, give the bucket of each rank and the rank within it; among that
    bucket's delays of the period (``reply_delays_daily``, one index range per bucket),
    summed row by row in delay order, the delay at that rank: the first row whose running
    sum passes it (rows of equal delays, from several days, are in any order among
    themselves, but have the same delay). One statement, so one snapshot. Running sums are
    ``ROWS`` frames (the default ``RANGE`` frame compares peers, 5 times slower over the
    2,545 delays of the median's bucket at 10M), of ``integer`` counts (a ``bigint`` sum is
    ``numeric``). Built once (bind parameters: :func:`_values`)."""
    sums = covered_sums(
        REPLY_DELAY_BUCKETS_DAILY,
        REPLY_DELAY_BUCKETS_MONTHLY,
        ("replies",),
        COVERED,
        keys=("bucket",),
        chat_id=CHAT,
    )
    upto = func.sum(sums.c.replies).over(order_by=sums.c.bucket, rows=(None, 0))
    ranked = (
        select(
            sums.c.bucket,
            (upto - sums.c.replies).label("before"),
            upto.label("upto"),
            func.sum(sums.c.replies).over().label("total"),
        )
        .where(sums.c.replies > 0)
        .subquery("ranked")
    )
    middles = union_all(
        select(literal(0).label("middle")), select(literal(1).label("middle"))
    ).subquery("middles")
    rank = func.floor((ranked.c.total - 1 + middles.c.middle) / 2)
    wanted = (
        select(middles.c.middle, ranked.c.bucket, (rank - ranked.c.before).label("within"))
        .select_from(ranked)
        .join(middles, true())
        .where(rank >= ranked.c.before, rank < ranked.c.upto)
        .cte("wanted")
    )
    delays = REPLY_DELAYS_DAILY.c
    buckets = func.array(select(wanted.c.bucket).scalar_subquery())
    exact = (
        select(
            delays.bucket,
            delays.delay_s,
            func.sum(cast(delays.replies, Integer))
            .over(partition_by=delays.bucket, order_by=delays.delay_s, rows=(None, 0))
            .label("upto"),
        )
        .where(
            delays.chat_id == CHAT,
            delays.bucket == any_(buckets),
            delays.day.between(bindparam("start", type_=Date), bindparam("end", type_=Date)),
        )
        .subquery("exact")
    )
    return (
        select(wanted.c.middle, func.min(exact.c.delay_s).label("delay"))
        .select_from(wanted)
        .join(exact, exact.c.bucket == wanted.c.bucket)
        .where(exact.c.upto > wanted.c.within)
        .group_by(wanted.c.middle)
        .order_by(wanted.c.middle)
    )


MEDIAN = _build_median()


def median_statement(chat_id: int, period: Period) -> Bound:
    """:data:`MEDIAN` (:func:`_build_median`) for chat ``chat_id`` and ``period``, and its
    values."""
    return MEDIAN, _values(chat_id, period)


async def _median(db: Database, chat_id: int, period: Period) -> float | None:
    """The median delay (seconds) of the replies sent in ``period`` whose original ingest
    found, as ``percentile_cont(0.5)`` gives it: the middle delay, or for an even number of
    delays ``low + 0.5 * (high - low)`` of the two middle ones (the same float arithmetic);
    None without any."""
    rows = await fetch_all(db, *median_statement(chat_id, period))
    if not rows:
        return None
    low, high = (float(row["delay"]) for row in rows)
    return low + 0.5 * (high - low)


async def reply_stats(db: Database, chat_id: int, period: Period, limit: int = 10) -> ReplyStats:
    """Replies in chat ``chat_id`` sent in ``period`` (see :class:`ReplyStats`): the ``limit``
    busiest pairs (ties by replier then replied-to id), the median delay (that of
    ``percentile_cont(0.5)``), the share of messages that are replies; the three statements
    run at the same time on a pool (:func:`together`). Raises StatsRequestError for a limit
    outside 1..MAX_TOP."""
    check_limit(limit)
    daily = CHAT_CONTENT_DAILY.c
    counts = select(
        func.coalesce(func.sum(daily.messages), 0).label("messages"),
        func.coalesce(func.sum(daily.replies), 0).label("replies"),
    ).where(daily.chat_id == chat_id, daily.day.between(period.start, period.end))
    row, delay, pairs = await together(
        db,
        partial(fetch_one, db, counts),
        partial(_median, db, chat_id, period),
        partial(_pairs, db, chat_id, period, limit),
    )
    assert row is not None  # an aggregate-only SELECT has one row
    messages, replied = int(row["messages"]), int(row["replies"])
    return ReplyStats(
        chat_id=chat_id,
        start=period.start,
        end=period.end,
        messages=messages,
        replies=replied,
        reply_share=round(replied / messages, 4) if messages else 0.0,
        median_delay_seconds=delay,
        top_pairs=pairs,
    )
