"""Every statistics endpoint against SQL of the tests' own on the raw tables.

The API answers from the rollups (and raw rows where a rollup cannot answer); the references
here count raw ``messages`` and ``member_events`` with ``AT TIME ZONE``, so agreement also
checks that local days and hours come out right, across the end of summer time in Berlin
(2025-10-26) and in a zone offset by half an hour (Kolkata).
"""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from tally.chatstore.read.periods import week_start
from tests.factories.reference import ReferenceSql
from tests.factories.sample_chats import BERLIN, KOLKATA, QUIET, RECENT

BERLIN_TZ = "Europe/Berlin"
KOLKATA_TZ = "Asia/Kolkata"
START, END = date(2025, 10, 20), date(2025, 11, 2)
"""Two weeks across the DST change; the previous period is 2025-10-06..2025-10-19."""
LOCAL = "(sent_at AT TIME ZONE :tz)::date"
IN_DAYS = f"chat_id = :chat AND {LOCAL} BETWEEN :start AND :end"


async def _get(client: httpx.AsyncClient, path: str, **params: Any) -> Any:
    reply = await client.get(path, params=params)
    assert reply.status_code == 200, reply.text
    return reply.json()


async def _figures(sql: ReferenceSql, chat: int, tz: str, start: date, end: date) -> dict[str, Any]:
    days = (end - start).days + 1
    args = {"chat": chat, "tz": tz, "start": start, "end": end}
    user_days = await sql.value(
        f"SELECT count(*) FROM (SELECT DISTINCT user_id, {LOCAL} FROM messages"
        f" WHERE {IN_DAYS} AND user_id IS NOT NULL) AS pairs",
        **args,
    )
    members = (
        await sql.rows(
            "SELECT count(*) FILTER (WHERE change = 'join') AS joins,"
            " count(*) FILTER (WHERE change = 'leave') AS leaves FROM member_events"
            " WHERE chat_id = :chat AND (occurred_at AT TIME ZONE :tz)::date"
            " BETWEEN :start AND :end",
            **args,
        )
    )[0]

    async def distinct_users(first: date) -> int:
        return int(
            await sql.value(
                f"SELECT count(DISTINCT user_id) FROM messages WHERE {IN_DAYS}",
                **{**args, "start": first},
            )
        )

    return {
        "messages": await sql.value(f"SELECT count(*) FROM messages WHERE {IN_DAYS}", **args),
        "active_users": await distinct_users(start),
        "dau": round(user_days / days, 2),
        "wau": await distinct_users(end - timedelta(days=6)),
        "mau": await distinct_users(end - timedelta(days=29)),
        "new_members": members["joins"],
        "left_members": members["leaves"],
    }


async def test_summary_matches_the_raw_tables(client: httpx.AsyncClient, sql: ReferenceSql) -> None:
    """Each KPI of a two-week Berlin period spanning the DST change, and of the two weeks
    before, equals a count over the raw rows by local day; the change is their difference."""
    body = await _get(
        client, f"/api/chats/{BERLIN}/summary", **{"from": START.isoformat(), "to": END}
    )
    now = await _figures(sql, BERLIN, BERLIN_TZ, START, END)
    before = await _figures(sql, BERLIN, BERLIN_TZ, date(2025, 10, 6), date(2025, 10, 19))
    assert (body["previous_start"], body["previous_end"]) == ("2025-10-06", "2025-10-19")
    for name, value in now.items():
        figure = body[name]
        assert (figure["value"], figure["previous"]) == (value, before[name]), name
        assert figure["change"] == pytest.approx(value - before[name]), name
    assert now["messages"] > 0 and now["new_members"] > 0 and now["left_members"] > 0


async def test_the_chat_list_has_each_chats_last_30_local_days(
    client: httpx.AsyncClient, sql: ReferenceSql
) -> None:
    """Every sample chat is listed with its messages and posting users over the 30 local
    days ending today in its own zone."""
    listed = {chat["chat_id"]: chat for chat in await _get(client, "/api/chats")}
    for chat_id in (BERLIN, KOLKATA, QUIET, RECENT):
        tz = listed[chat_id]["settings"]["timezone"]
        window = (
            "chat_id = :chat AND (sent_at AT TIME ZONE :tz)::date"
            " BETWEEN (now() AT TIME ZONE :tz)::date - 29 AND (now() AT TIME ZONE :tz)::date"
        )
        expected = await sql.rows(
            f"SELECT count(*) AS messages, count(DISTINCT user_id) AS active_users"
            f" FROM messages WHERE {window}",
            chat=chat_id,
            tz=tz,
        )
        recent = listed[chat_id]["last_30_days"]
        assert (recent["messages"], recent["active_users"]) == tuple(expected[0].values())
    assert listed[RECENT]["last_30_days"]["messages"] == 3
    assert listed[BERLIN]["title"] == "Berlin group"


async def test_daily_series_follow_local_days(client: httpx.AsyncClient, sql: ReferenceSql) -> None:
    """Messages, DAU and member changes per Berlin day; a day starts at local midnight
    (+02:00 before the change, +01:00 after)."""
    args = {"from": START.isoformat(), "to": END.isoformat(), "bucket": "day"}
    expected = await sql.rows(
        f"SELECT d::date AS day,"
        f" (SELECT count(*) FROM messages WHERE chat_id = :chat AND {LOCAL} = d::date) AS m,"
        f" (SELECT count(DISTINCT user_id) FROM messages"
        f"  WHERE chat_id = :chat AND {LOCAL} = d::date) AS u,"
        " (SELECT count(*) FILTER (WHERE change = 'join') - count(*) FILTER (WHERE change ="
        "  'leave') FROM member_events WHERE chat_id = :chat"
        "  AND (occurred_at AT TIME ZONE :tz)::date = d::date) AS net"
        " FROM generate_series(CAST(:start AS date), CAST(:end AS date), '1 day') AS d",
        chat=BERLIN,
        tz=BERLIN_TZ,
        start=START,
        end=END,
    )
    series = {
        metric: (await _get(client, f"/api/chats/{BERLIN}/timeseries", metric=metric, **args))[
            "points"
        ]
        for metric in ("messages", "dau", "members")
    }
    assert [p["start"][:10] for p in series["messages"]] == [r["day"].isoformat() for r in expected]
    assert [p["value"] for p in series["messages"]] == [r["m"] for r in expected]
    assert [p["value"] for p in series["dau"]] == [r["u"] for r in expected]
    assert [p["value"] for p in series["members"]] == [r["net"] for r in expected]
    starts = {p["start"][:10]: p["start"] for p in series["messages"]}
    assert starts["2025-10-26"] == "2025-10-26T00:00:00+02:00"
    assert starts["2025-10-27"] == "2025-10-27T00:00:00+01:00"


async def test_weekly_series_cut_weeks_to_the_period(
    client: httpx.AsyncClient, sql: ReferenceSql
) -> None:
    """Weeks run Monday to Sunday; the first and last are cut to the period and start at its
    first day inside it; weekly DAU is the mean over those days."""
    start, end = date(2025, 9, 24), date(2025, 11, 5)
    expected = await sql.rows(
        f"SELECT greatest(date_trunc('week', {LOCAL})::date, :start) AS first,"
        f" least(date_trunc('week', {LOCAL})::date + 6, :end)"
        f" - greatest(date_trunc('week', {LOCAL})::date, :start) + 1 AS days,"
        f" count(*) AS messages, count(DISTINCT (user_id, {LOCAL}))"
        f" FILTER (WHERE user_id IS NOT NULL) AS user_days"
        f" FROM messages WHERE {IN_DAYS} GROUP BY 1, 2 ORDER BY 1",
        chat=BERLIN,
        tz=BERLIN_TZ,
        start=start,
        end=end,
    )
    args = {"from": start.isoformat(), "to": end.isoformat(), "bucket": "week"}
    path = f"/api/chats/{BERLIN}/timeseries"
    messages = (await _get(client, path, metric="messages", **args))["points"]
    dau = (await _get(client, path, metric="dau", **args))["points"]
    assert [p["start"][:10] for p in messages] == [r["first"].isoformat() for r in expected]
    assert messages[0]["start"] == "2025-09-24T00:00:00+02:00"
    assert [p["value"] for p in messages] == [r["messages"] for r in expected]
    assert [p["value"] for p in dau] == [round(r["user_days"] / r["days"], 2) for r in expected]


async def _hourly_reference(sql: ReferenceSql, chat: int, first: datetime, hours: int) -> list[Any]:
    return await sql.rows(
        "SELECT h, (SELECT count(*) FROM messages WHERE chat_id = :chat AND sent_at >= h"
        " AND sent_at < h + interval '1 hour') AS m,"
        " (SELECT count(*) FILTER (WHERE change = 'join') FROM member_events"
        "  WHERE chat_id = :chat AND occurred_at >= h AND occurred_at < h + interval '1 hour')"
        "  AS joins,"
        " (SELECT count(*) FILTER (WHERE change = 'leave') FROM member_events"
        "  WHERE chat_id = :chat AND occurred_at >= h AND occurred_at < h + interval '1 hour')"
        "  AS leaves"
        " FROM generate_series(CAST(:first AS timestamptz),"
        "  CAST(:first AS timestamptz) + (:hours - 1) * interval '1 hour', '1 hour') AS h",
        chat=chat,
        first=first,
        hours=hours,
    )


async def test_the_night_the_clocks_go_back_has_25_hours(
    client: httpx.AsyncClient, sql: ReferenceSql
) -> None:
    """Hourly buckets of 2025-10-26 in Berlin: 25 local hours, the two 02:00 hours apart,
    each with the messages and member changes of its UTC hour."""
    args = {"from": "2025-10-26", "to": "2025-10-26", "bucket": "hour"}
    path = f"/api/chats/{BERLIN}/timeseries"
    messages = (await _get(client, path, metric="messages", **args))["points"]
    members = (await _get(client, path, metric="members", **args))["points"]
    expected = await _hourly_reference(sql, BERLIN, datetime(2025, 10, 25, 22, tzinfo=UTC), 25)
    assert len(messages) == len(members) == 25
    assert [datetime.fromisoformat(p["start"]) for p in messages] == [r["h"] for r in expected]
    assert [p["start"] for p in messages[2:5]] == [
        "2025-10-26T02:00:00+02:00",
        "2025-10-26T02:00:00+01:00",
        "2025-10-26T03:00:00+01:00",
    ]
    assert [p["value"] for p in messages] == [r["m"] for r in expected]
    assert [(p["joins"], p["leaves"]) for p in members] == [
        (r["joins"], r["leaves"]) for r in expected
    ]
    assert messages[2]["value"] >= 1 and messages[3]["value"] >= 2
    assert (members[2]["joins"], members[3]["leaves"]) == (1, 1)


async def test_half_hour_zones_are_bucketed_by_local_hour(
    client: httpx.AsyncClient, sql: ReferenceSql
) -> None:
    """In Kolkata (UTC+05:30) an hour bucket starts at half past a UTC hour, and messages
    of one UTC hour land in two local hours (read from the raw messages)."""
    args = {"from": "2025-10-10", "to": "2025-10-13", "bucket": "hour", "metric": "messages"}
    points = (await _get(client, f"/api/chats/{KOLKATA}/timeseries", **args))["points"]
    first = datetime(2025, 10, 9, 18, 30, tzinfo=UTC)
    expected = await _hourly_reference(sql, KOLKATA, first, 4 * 24)
    assert [datetime.fromisoformat(p["start"]) for p in points] == [r["h"] for r in expected]
    assert [p["value"] for p in points] == [r["m"] for r in expected]
    assert sum(p["value"] for p in points) == 5
    assert points[23]["start"] == "2025-10-10T23:00:00+05:30" and points[23]["value"] == 1


async def _heatmap_reference(
    sql: ReferenceSql, chat: int, tz: str, start: date, end: date
) -> list[Any]:
    cells = [[0] * 24 for _ in range(7)]
    rows = await sql.rows(
        "SELECT extract(isodow FROM sent_at AT TIME ZONE :tz)::int - 1 AS d,"
        f" extract(hour FROM sent_at AT TIME ZONE :tz)::int AS h, count(*) AS n"
        f" FROM messages WHERE {IN_DAYS} GROUP BY 1, 2",
        chat=chat,
        tz=tz,
        start=start,
        end=end,
    )
    for row in rows:
        cells[row["d"]][row["h"]] = row["n"]
    return cells


@pytest.mark.parametrize(
    ("chat", "tz", "start", "end"),
    [
        (BERLIN, BERLIN_TZ, date(2025, 9, 22), date(2025, 11, 9)),
        (BERLIN, BERLIN_TZ, date(2025, 10, 26), date(2025, 10, 26)),
        (KOLKATA, KOLKATA_TZ, date(2025, 10, 10), date(2025, 10, 13)),
    ],
)
async def test_heatmap_is_by_local_weekday_and_hour(
    client: httpx.AsyncClient, sql: ReferenceSql, chat: int, tz: str, start: date, end: date
) -> None:
    """7 x 24 messages by local weekday and hour equal the raw rows' count."""
    body = await _get(
        client, f"/api/chats/{chat}/heatmap", **{"from": start.isoformat(), "to": end}
    )
    expected = await _heatmap_reference(sql, chat, tz, start, end)
    assert body["cells"] == expected
    assert body["total"] == sum(map(sum, expected)) > 0


async def test_both_0200_hours_count_in_sundays_0200_cell(
    client: httpx.AsyncClient, sql: ReferenceSql
) -> None:
    """On 2025-10-26, Sunday 02:00 holds the messages of 00:00-02:00 UTC (CEST, then CET)."""
    body = await _get(
        client, f"/api/chats/{BERLIN}/heatmap", **{"from": "2025-10-26", "to": "2025-10-26"}
    )
    both = await sql.value(
        "SELECT count(*) FROM messages WHERE chat_id = :chat"
        " AND sent_at >= '2025-10-26 00:00+00' AND sent_at < '2025-10-26 02:00+00'",
        chat=BERLIN,
    )
    assert body["cells"][6][2] == both >= 3
    assert sum(body["cells"][0]) == 0  # Monday 00:30 CET is outside the day


async def _user_reference(sql: ReferenceSql, start: date, end: date) -> list[dict[str, Any]]:
    return await sql.rows(
        f"SELECT m.user_id, count(*) AS messages, count(DISTINCT {LOCAL}) AS active_days,"
        f" max({LOCAL}) AS last_seen, u.username FROM messages m"
        f" LEFT JOIN users u USING (user_id)"
        f" WHERE m.{IN_DAYS} AND m.user_id IS NOT NULL GROUP BY m.user_id, u.username",
        chat=BERLIN,
        tz=BERLIN_TZ,
        start=start,
        end=end,
    )


def _as_api(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (r["user_id"], r["messages"], r["active_days"], r["last_seen"].isoformat()) for r in rows
    ]


def _items(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(u["user_id"], u["messages"], u["active_days"], u["last_seen"]) for u in body["items"]]


@pytest.mark.parametrize(
    ("sort", "order"),
    [("messages", "desc"), ("active_days", "asc"), ("last_seen", "desc")],
)
async def test_users_are_sorted_then_paged(
    client: httpx.AsyncClient, sql: ReferenceSql, sort: str, order: str
) -> None:
    """Users who posted in the period, by the sort key then user id; pages of two, put
    together, are the whole list; ``total`` counts them all."""
    reference = await _user_reference(sql, START, END)
    reference.sort(key=lambda r: r["user_id"])
    reference.sort(key=lambda r: r[sort], reverse=order == "desc")
    args = {"from": START.isoformat(), "to": END.isoformat(), "sort": sort, "order": order}
    pages = []
    for page in range(1, len(reference) // 2 + 2):
        body = await _get(client, f"/api/chats/{BERLIN}/users", page=page, size=2, **args)
        assert body["total"] == len(reference)
        pages.extend(_items(body))
    assert pages == _as_api(reference)


@pytest.mark.parametrize(
    ("search", "usernames"),
    [
        ("frank_50%", ["frank_50%"]),
        ("50%", ["frank_50%"]),
        ("козлов", ["dmitry_k"]),
        ("@ALI", ["alice"]),
        ("clara weiß", [None]),
        ("_", ["dmitry_k", "frank_50%"]),
    ],
)
async def test_users_search_by_username_or_name(
    client: httpx.AsyncClient, search: str, usernames: list[str | None]
) -> None:
    """Search is a case-insensitive substring of username (``@`` optional), first, last or
    full name; ``%`` and ``_`` are matched as themselves."""
    args = {"from": "2025-09-22", "to": "2025-11-09", "search": search}
    body = await _get(client, f"/api/chats/{BERLIN}/users", size=200, **args)
    assert sorted(u["username"] or "" for u in body["items"]) == sorted(n or "" for n in usernames)
    assert body["total"] == len(usernames)


async def test_retention_follows_weekly_cohorts(
    client: httpx.AsyncClient, sql: ReferenceSql
) -> None:
    """Each user's cohort is the local week they first joined or posted; cell k is the share
    of the cohort who posted in week k, for weeks that start by the period's end."""
    start, end, weeks = date(2025, 9, 15), date(2025, 11, 5), 4
    firsts = await sql.rows(
        f"SELECT user_id, min(day) AS first FROM ("
        f" SELECT user_id, {LOCAL} AS day FROM messages WHERE chat_id = :chat"
        " UNION ALL SELECT user_id, (occurred_at AT TIME ZONE :tz)::date FROM member_events"
        " WHERE chat_id = :chat AND change = 'join') AS seen"
        " WHERE user_id IS NOT NULL GROUP BY user_id",
        chat=BERLIN,
        tz=BERLIN_TZ,
    )
    posts = await sql.rows(
        f"SELECT DISTINCT user_id, date_trunc('week', {LOCAL})::date AS week FROM messages"
        f" WHERE chat_id = :chat AND {LOCAL} <= :end AND user_id IS NOT NULL",
        chat=BERLIN,
        tz=BERLIN_TZ,
        end=end,
    )
    active = {(p["user_id"], p["week"]) for p in posts}
    cohorts: dict[date, list[int]] = {}
    for row in firsts:
        week = row["first"] - timedelta(days=row["first"].weekday())
        if week_start(start) <= week <= end:
            cohorts.setdefault(week, []).append(row["user_id"])
    body = await _get(
        client,
        f"/api/chats/{BERLIN}/retention",
        weeks=weeks,
        **{"from": start.isoformat(), "to": end.isoformat()},
    )
    got = {c["week"]: (c["size"], c["active"], c["shares"]) for c in body["cohorts"]}
    assert set(got) == {week.isoformat() for week in cohorts}
    for week, members in cohorts.items():
        cells = [
            sum((user, week + timedelta(weeks=k)) in active for user in members)
            for k in range(weeks + 1)
            if week + timedelta(weeks=k) <= end
        ]
        size, counts, shares = got[week.isoformat()]
        assert (size, counts) == (len(members), cells), week
        assert shares == [round(n / size, 4) for n in cells]
    assert "2025-09-15" not in got  # alice joined on Monday 22 Sep in Berlin (Sunday in UTC)
    assert got["2025-10-06"][1][0] < got["2025-10-06"][0]  # gina joined and never posted


async def test_retention_preview_counts_rows_before_the_cutoff(
    client: httpx.AsyncClient, sql: ReferenceSql
) -> None:
    """The preview counts raw rows older than now - retention_days; a chat without
    retention would lose nothing."""
    body = await _get(client, f"/api/chats/{BERLIN}/retention/preview")
    cutoff = datetime.fromisoformat(body["cutoff"])
    assert abs(datetime.now(UTC) - timedelta(days=body["retention_days"]) - cutoff) < timedelta(
        minutes=1
    )
    for table, column in (
        ("messages", "sent_at"),
        ("member_events", "occurred_at"),
        ("reactions", "reacted_at"),
    ):
        expected = await sql.value(
            f"SELECT count(*) FROM {table} WHERE chat_id = :chat AND {column} < :cutoff",
            chat=BERLIN,
            cutoff=cutoff,
        )
        assert body[table] == expected, table
    assert (
        0
        < body["messages"]
        < await sql.value("SELECT count(*) FROM messages WHERE chat_id = :chat", chat=BERLIN)
    )
    off = await _get(client, f"/api/chats/{KOLKATA}/retention/preview")
    assert off == {
        "chat_id": KOLKATA,
        "retention_days": None,
        "cutoff": None,
        "messages": 0,
        "member_events": 0,
        "reactions": 0,
    }


async def test_an_empty_chat_has_zeros(client: httpx.AsyncClient) -> None:
    """A chat without messages: zeros everywhere, and no percentage change from zero."""
    args = {"from": "2025-10-01", "to": "2025-10-07"}
    summary = await _get(client, f"/api/chats/{QUIET}/summary", **args)
    assert summary["messages"] == {"value": 0, "previous": 0, "change": 0, "change_pct": None}
    series = await _get(client, f"/api/chats/{QUIET}/timeseries", **args)
    assert [p["value"] for p in series["points"]] == [0] * 7
    users = await _get(client, f"/api/chats/{QUIET}/users", **args)
    assert (users["total"], users["items"]) == (0, [])
