"""chat_stats on its own: periods in local time across DST, and the statements run through
an SQLAlchemy AsyncConnection (the dashboard runs them on an asyncpg pool) with the same
answers as through asyncpg."""

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.chatstore import read as chat_stats
from tally.chatstore.read import Period, StatsRequestError, UsersQuery
from tally.chatstore.read.connection import to_asyncpg
from tally.chatstore.read.members import longest_streak, member_figures
from tally.chatstore.read.monthly import ENDS, MonthlyCover, cover_values, monthly_cover
from tally.chatstore.read.summary import summary_statement
from tally.chatstore.read.users import users_statement
from tally.infra.db.session import asyncpg_dsn, create_engine
from tests.factories.sample_chats import (
    BERLIN,
    CHAT_IDS,
    KOLKATA,
    RECENT,
    USER_IDS,
    remove_sample_chats,
    write_sample_chats,
)

BERLIN_TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2025, 11, 10, 12, tzinfo=UTC)


def test_a_local_day_is_23_24_or_25_hours() -> None:
    """Berlin's 30 March 2025 has 23 hours, 26 October 25, and they start at local midnight."""
    spring = Period(date(2025, 3, 30), date(2025, 3, 30), BERLIN_TZ)
    autumn = Period(date(2025, 10, 26), date(2025, 10, 26), BERLIN_TZ)
    assert (len(spring.each_hour()), len(autumn.each_hour())) == (23, 25)
    assert autumn.utc_start == datetime(2025, 10, 25, 22, tzinfo=UTC)
    assert autumn.utc_end == datetime(2025, 10, 26, 23, tzinfo=UTC)


def test_a_missing_local_midnight_starts_the_day_when_the_clocks_jump() -> None:
    """Santiago skipped 00:00-01:00 on 7 September 2025: that day begins at 04:00 UTC."""
    day = Period(date(2025, 9, 7), date(2025, 9, 7), ZoneInfo("America/Santiago"))
    assert day.utc_start == datetime(2025, 9, 7, 4, tzinfo=UTC)
    assert len(day.each_hour()) == 23


def test_previous_and_trailing_periods() -> None:
    period = Period(date(2025, 10, 20), date(2025, 11, 2), BERLIN_TZ)
    previous = period.previous()
    assert (previous.start, previous.end, period.days) == (
        date(2025, 10, 6),
        date(2025, 10, 19),
        14,
    )
    assert period.trailing(7).start == date(2025, 10, 27)
    assert Period.last_days(
        30, tz=BERLIN_TZ, now=datetime(2025, 11, 9, 23, 30, tzinfo=UTC)
    ).end == date(2025, 11, 10)


def test_whole_hour_offsets_decide_between_rollup_and_raw_rows() -> None:
    assert Period(date(2025, 10, 1), date(2025, 10, 31), BERLIN_TZ).whole_hour_offsets()
    kolkata = ZoneInfo("Asia/Kolkata")
    assert not Period(date(2025, 10, 1), date(2025, 10, 2), kolkata).whole_hour_offsets()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Period(date(2025, 2, 1), date(2025, 1, 1), BERLIN_TZ), "ends"),
        (lambda: Period(date(2000, 1, 1), date(2025, 1, 1), BERLIN_TZ), "at most"),
        (lambda: chat_stats.zone("Europe/Atlantis"), "IANA"),
        (lambda: UsersQuery(size=201), "pages"),
        (lambda: UsersQuery(page=0), "pages"),
    ],
)
def test_impossible_requests_are_refused(make: object, message: str) -> None:
    with pytest.raises(StatsRequestError, match=message):
        make()  # type: ignore[operator]


def test_statements_bind_every_value() -> None:
    """No value is formatted into the SQL: dates, ids and zones are $n parameters."""
    period = Period(date(2025, 10, 20), date(2025, 11, 2), BERLIN_TZ)
    sql, args = to_asyncpg(summary_statement(BERLIN, period))
    assert "2025" not in sql and str(BERLIN) not in sql
    assert date(2025, 10, 20) in args and BERLIN in args


@pytest.fixture(scope="module")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        sample = await write_sample_chats(connection, now=NOW)
    yield engine
    await remove_sample_chats(engine, sample)
    await engine.dispose()


async def test_both_connection_kinds_give_the_same_answers(
    engine: AsyncEngine, database_url: str
) -> None:
    """Summary, series, heatmap, users, retention, preview and the chat list are equal run
    through an SQLAlchemy AsyncConnection and through asyncpg."""
    chat = await _chat(engine)
    period = Period(date(2025, 10, 20), date(2025, 11, 2), BERLIN_TZ)
    kolkata = Period(date(2025, 10, 10), date(2025, 10, 13), ZoneInfo("Asia/Kolkata"))

    async def answers(db: chat_stats.Database) -> list[object]:
        return [
            await chat_stats.summary(db, chat_id=BERLIN, period=period),
            await chat_stats.timeseries(
                db, chat_id=BERLIN, period=period, metric="dau", bucket="week"
            ),
            await chat_stats.timeseries(
                db, chat_id=KOLKATA, period=kolkata, metric="messages", bucket="hour"
            ),
            await chat_stats.heatmap(db, chat_id=KOLKATA, period=kolkata),
            await chat_stats.users(db, chat_id=BERLIN, period=period, query=UsersQuery(search="a")),
            await chat_stats.retention(db, chat_id=BERLIN, period=period, weeks=3),
            await chat_stats.retention_preview(db, chat=chat, now=NOW),
            [c for c in await chat_stats.list_chats(db, now=NOW) if c.chat_id in CHAT_IDS],
        ]

    async with engine.connect() as connection:
        through_sqlalchemy = await answers(connection)
    raw = await asyncpg.connect(**asyncpg_dsn(database_url))
    try:
        through_asyncpg = await answers(raw)
    finally:
        await raw.close()
    assert through_sqlalchemy == through_asyncpg
    listed = {c.chat_id: c.last_30_days for c in through_sqlalchemy[-1]}  # type: ignore[attr-defined]
    assert listed[RECENT].messages == 3 and listed[BERLIN].end == date(2025, 11, 10)


async def _chat(engine: AsyncEngine) -> chat_stats.ChatInfo:
    async with engine.connect() as connection:
        chat = await chat_stats.get_chat(connection, BERLIN)
        assert await chat_stats.get_chat(connection, -1) is None
    assert chat is not None and chat.settings.timezone == "Europe/Berlin"
    return chat


async def test_the_last_30_days_end_today_in_each_chats_zone(engine: AsyncEngine) -> None:
    """At 20:00 UTC on 9 Nov it is already 10 Nov in Kolkata, still 9 Nov in Berlin."""
    async with engine.connect() as connection:
        chats = await chat_stats.list_chats(connection, now=datetime(2025, 11, 9, 20, tzinfo=UTC))
    ends = {c.chat_id: (c.last_30_days.start, c.last_30_days.end) for c in chats}
    assert ends[KOLKATA] == (date(2025, 10, 12), date(2025, 11, 10))
    assert ends[BERLIN] == (date(2025, 10, 11), date(2025, 11, 9))
    assert ends[BERLIN][1] - ends[BERLIN][0] == timedelta(days=29)


def test_a_period_reads_whole_months_and_at_most_15_days_at_each_end() -> None:
    """Whole months come from the monthly rows; a month covered in part adds the daily rows of
    its days, or (more than half covered) takes those of the other days from the month."""
    cover = monthly_cover(date(2025, 10, 3), date(2025, 12, 31))
    assert cover.months == (date(2025, 10, 1), date(2025, 11, 1), date(2025, 12, 1))
    assert (cover.added, cover.taken) == ((), ((date(2025, 10, 1), date(2025, 10, 2)),))
    cover = monthly_cover(date(2025, 1, 20), date(2025, 3, 10))
    assert cover.months == (date(2025, 2, 1),)
    assert cover.added == (
        (date(2025, 1, 20), date(2025, 1, 31)),
        (date(2025, 3, 1), date(2025, 3, 10)),
    )
    inside = monthly_cover(date(2025, 2, 3), date(2025, 2, 26))
    assert inside == MonthlyCover(
        (date(2025, 2, 1),),
        (),
        ((date(2025, 2, 1), date(2025, 2, 2)), (date(2025, 2, 27), date(2025, 2, 28))),
    )


def test_a_cover_reads_at_most_two_ranges_of_days() -> None:
    """Whatever the period (one day to a year, starting on any day of a leap year and the
    next), its cover adds or takes at most ENDS ranges of days, so the statements' fixed
    ends hold every cover; the ends it leaves unused hold no day."""
    first = date(2024, 1, 1)
    for start in (first + timedelta(days=n) for n in range(0, 731, 3)):
        for length in (0, 1, 14, 15, 16, 27, 30, 31, 45, 59, 60, 89, 364):
            cover = monthly_cover(start, start + timedelta(days=length))
            assert len(cover.added) + len(cover.taken) <= ENDS, (start, length)
    values = cover_values(Period(date(2025, 10, 3), date(2025, 12, 31), BERLIN_TZ))
    assert (values["end_0_first"], values["end_0_last"], values["end_0_sign"]) == (
        date(2025, 10, 1),
        date(2025, 10, 2),
        -1,
    )
    assert values["end_1_first"] > values["end_1_last"]


def _daily_activity(chat_id: int, period: Period) -> TextClause:
    """Each member's messages, words, active days and last active day in ``period``, grouped
    from ``user_chat_daily`` (what the monthly rows must reproduce)."""
    return text(
        "SELECT user_id, sum(messages) AS messages, sum(words) AS words,"
        " count(*) AS active_days, max(day) AS last_seen FROM user_chat_daily"
        f" WHERE chat_id = {chat_id} AND day BETWEEN '{period.start}' AND '{period.end}'"
        " AND messages > 0 GROUP BY user_id"
    )


def _periods(tz: ZoneInfo) -> list[Period]:
    """Periods starting and ending anywhere in the sample's weeks: whole months, months in
    part, one day."""
    return [
        Period(
            date(2025, 9, 1) + timedelta(days=start),
            date(2025, 9, 1) + timedelta(days=start + length),
            tz,
        )
        for start in range(0, 75, 4)
        for length in (0, 6, 20, 45, 70)
    ]


async def test_per_member_figures_from_months_equal_those_from_days(
    engine: AsyncEngine,
) -> None:
    """For periods starting and ending anywhere in the sample's weeks (whole months, months
    in part, one day), the users page and the tops by messages and words equal the same
    figures grouped from ``user_chat_daily``, day by day."""
    checked = 0
    async with engine.connect() as connection:
        for period in _periods(BERLIN_TZ):
            rows = (await connection.execute(_daily_activity(BERLIN, period))).mappings().all()
            page = await chat_stats.users(
                connection, chat_id=BERLIN, period=period, query=UsersQuery(size=200)
            )
            got = {(u.user_id, u.messages, u.active_days, u.last_seen) for u in page.items}
            want = {(r["user_id"], r["messages"], r["active_days"], r["last_seen"]) for r in rows}
            assert got == want, period
            for by in ("messages", "words"):
                top = await chat_stats.top_members(connection, BERLIN, period, by, 100)
                ranked = {(item.member.user_id, item.count) for item in top.items}
                assert ranked == {(r["user_id"], r[by]) for r in rows if r[by] > 0}, (period, by)
            checked += bool(rows)
    assert checked > 30


def test_a_statement_shape_is_compiled_once_with_each_call_s_values() -> None:
    """The kept SQL of a shape is bound to each statement's own values: the same as compiling
    each statement anew, for two periods of the same shape and for one of another."""
    from sqlalchemy.dialects.postgresql.asyncpg import dialect

    def fresh(statement: Any) -> tuple[str, tuple[Any, ...]]:
        compiled = statement.compile(dialect=dialect(), compile_kwargs={"render_postcompile": True})
        return str(compiled), tuple(compiled.params[name] for name in compiled.positiontup)

    periods = [
        Period(date(2025, 10, 3), date(2025, 12, 31), BERLIN_TZ),
        Period(date(2025, 3, 5), date(2025, 5, 20), BERLIN_TZ),
        Period(date(2025, 3, 5), date(2025, 3, 9), BERLIN_TZ),
    ]
    for period in periods:
        for statement in (
            summary_statement(BERLIN, period),
            users_statement(KOLKATA, period, UsersQuery(size=20, search="a")),
        ):
            assert to_asyncpg(statement) == fresh(statement)
    first, second = (to_asyncpg(summary_statement(BERLIN, p)) for p in periods[:2])
    assert first[0] == second[0] and first[1] != second[1]


def _hours_from_messages(chat_id: int, period: Period) -> TextClause:
    """Each member's messages of ``period`` by local hour, counted from ``messages`` (what
    ``user_hours_monthly`` and ``user_hours_daily`` must reproduce)."""
    return text(
        f"SELECT user_id, extract(hour FROM sent_at AT TIME ZONE '{period.timezone}')::int AS"
        f" hour, count(*) AS messages FROM messages WHERE chat_id = {chat_id}"
        f" AND sent_at >= '{period.utc_start.isoformat()}'"
        f" AND sent_at < '{period.utc_end.isoformat()}' AND user_id IS NOT NULL GROUP BY 1, 2"
    )


@pytest.mark.parametrize(
    ("chat_id", "zone"), [(BERLIN, "Europe/Berlin"), (KOLKATA, "Asia/Kolkata")]
)
async def test_favourite_hours_from_months_equal_those_from_messages(
    engine: AsyncEngine, chat_id: int, zone: str
) -> None:
    """For periods starting and ending anywhere in the sample's weeks (whole months, months
    in part, one day, across the end of summer time, and in a zone half an hour off UTC),
    each member's favourite hours equal their messages grouped by local hour."""
    checked = 0
    async with engine.connect() as connection:
        for period in _periods(ZoneInfo(zone)):
            counted: dict[int, list[tuple[int, int]]] = {}
            for row in await connection.execute(_hours_from_messages(chat_id, period)):
                counted.setdefault(row.user_id, []).append((row.hour, row.messages))
            for user_id in {*counted, USER_IDS[-1]}:
                stats = await chat_stats.member_stats(connection, chat_id, user_id, period)
                hours = stats.favourite_hours
                want = sorted(counted.get(user_id, []), key=lambda item: (-item[1], item[0]))
                assert [(h.hour, h.messages) for h in hours] == want[:3], (period, user_id)
            checked += bool(counted)
    assert checked > 30


async def test_a_member_s_figures_from_months_equal_those_from_days(
    engine: AsyncEngine, database_url: str
) -> None:
    """For the same periods, each member's messages, words, rank, active days and longest
    streak (``/user``) equal those grouped from ``user_chat_daily``, day by day, through
    SQLAlchemy and through asyncpg (one statement built once, each period's values bound)."""
    checked = 0
    raw = await asyncpg.connect(**asyncpg_dsn(database_url))
    async with engine.connect() as connection:
        for period in _periods(BERLIN_TZ):
            rows = (await connection.execute(_daily_activity(BERLIN, period))).mappings().all()
            for user_id in {*(row["user_id"] for row in rows), USER_IDS[-1]}:
                mine = next((row for row in rows if row["user_id"] == user_id), None)
                days = await connection.execute(
                    text(
                        f"SELECT day FROM user_chat_daily WHERE chat_id = {BERLIN}"
                        f" AND user_id = {user_id} AND messages > 0"
                        f" AND day BETWEEN '{period.start}' AND '{period.end}' ORDER BY day"
                    )
                )
                got = await member_figures(connection, BERLIN, user_id, period)
                assert got == await member_figures(raw, BERLIN, user_id, period)
                want = (mine["messages"], mine["words"], mine["active_days"]) if mine else (0, 0, 0)
                ahead = sum(1 for row in rows if mine and row["messages"] > mine["messages"])
                assert (got.messages, got.words, got.active_days) == want, (period, user_id)
                assert got.rank == (1 + ahead if mine else None), (period, user_id)
                assert got.longest_streak == longest_streak([day for (day,) in days])
            checked += bool(rows)
    await raw.close()
    assert checked > 30
