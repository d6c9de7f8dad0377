"""Measures and backtests on real PostgreSQL, held to counts made in the test from the rows
it inserted.

The rows live in March 2024 (no other test writes there) in a chat and under a creator of
this run; the chat id has a real supergroup's size (beyond 32 bits).
"""

import random
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.alerts.domain.rules import Condition, MeasureSource, Rule
from tally.alerts.domain.watch import WatchRefusal, compile_watch
from tally.alerts.measures import Backtest, backtest, read_measure, window_ends
from tally.infra.db.session import create_engine
from tally.infra.settings import CommonSettings
from tests.factories.chat_rows import ChatRows, remove_chats

HOUR = timedelta(hours=1)
WEEK = timedelta(days=7)
CHAT = -1_000_000_000_000 - random.randrange(10**9)
CREATOR = f"watch{uuid4().hex[:12]}"
NOW = datetime(2024, 3, 15, 0, 20, tzinfo=UTC)
"""When the backtests run: the last window ends at 00:00 (hourly ends are whole hours)."""
DAYS = 3
PERIOD_START = NOW.replace(minute=0) - timedelta(days=DAYS)
LIMIT = 5
"""The watch fires above 5 messages an hour; the background never has more."""
SPIKES = {
    PERIOD_START + 10 * HOUR: 6,
    PERIOD_START + 11 * HOUR: 9,
    PERIOD_START + 13 * HOUR: 7,
    PERIOD_START + 50 * HOUR: 12,
}
"""Hours (their starts) with more than LIMIT messages: two adjacent, one after a one-hour
gap, one far away."""


@dataclass(frozen=True)
class Rows:
    """What was inserted: message times, and the creator's snapshots as (time, delta views)."""

    messages: list[datetime]
    snapshots: list[tuple[datetime, int]]


def _hour_starts(first: datetime, last: datetime) -> list[datetime]:
    return [first + HOUR * index for index in range(int((last - first) / HOUR))]


def _message_times(rng: random.Random) -> list[datetime]:
    """Background of 0-4 messages an hour over the period and the week before it (three
    hours of that week empty), the spikes, and two messages exactly on an hour's start."""
    times = []
    empty = {PERIOD_START - WEEK + HOUR * index for index in (2, 3, 4)}
    for hour in _hour_starts(PERIOD_START - WEEK, NOW.replace(minute=0)):
        count = 0 if hour in empty else SPIKES.get(hour, rng.randrange(0, LIMIT))
        times += [hour + timedelta(seconds=rng.randrange(3600)) for _ in range(count)]
    return [*times, PERIOD_START + 20 * HOUR, PERIOD_START + 21 * HOUR]


def _snapshot_rows(rng: random.Random) -> list[tuple[int, datetime, int]]:
    """Three videos' hourly snapshots (at minute 0) over the period as (video, time, delta
    views): 0-14,999 views gained each, and three hours where video 0 gains 60,000."""
    rows = []
    for index, hour in enumerate(_hour_starts(PERIOD_START, NOW.replace(minute=0))):
        for video in range(3):
            big = video == 0 and index in (5, 6, 40)
            rows.append((video, hour, 60_000 if big else rng.randrange(15_000)))
    return rows


@pytest.fixture(scope="module")
async def engine(settings: CommonSettings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings.database_url)
    yield engine
    await engine.dispose()


async def _insert_videos(
    engine: AsyncEngine, snapshots: list[tuple[int, datetime, int]]
) -> list[UUID]:
    ids = [uuid4() for _ in range(3)]
    published = PERIOD_START - WEEK
    async with engine.begin() as connection:
        for video_id in ids:
            await connection.execute(
                text("INSERT INTO videos VALUES (:id, :creator, :at, 0, 0, 0, 0, :at, :at)"),
                {"id": video_id, "creator": CREATOR, "at": published},
            )
        for video, at, delta in snapshots:
            await connection.execute(
                text(
                    "INSERT INTO video_snapshots VALUES (:id, :video, 0, 0, 0, 0, :delta, 0, 0, 0,"
                    " :at, :at)"
                ),
                {"id": uuid4().hex, "video": ids[video], "delta": delta, "at": at},
            )
    return ids


async def _remove_videos(engine: AsyncEngine, ids: list[UUID]) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text("DELETE FROM video_snapshots WHERE video_id = ANY(:ids)"), {"ids": ids}
        )
        await connection.execute(text("DELETE FROM videos WHERE id = ANY(:ids)"), {"ids": ids})


@pytest.fixture(scope="module")
async def rows(engine: AsyncEngine) -> AsyncIterator[Rows]:
    """The chat's messages (through the chat factory) and the creator's videos; removed
    afterwards."""
    rng = random.Random(20240315)
    messages = _message_times(rng)
    snapshots = _snapshot_rows(rng)
    async with engine.begin() as connection:
        chat = ChatRows(connection, CHAT)
        for message_id, at in enumerate(messages, start=1):
            await chat.message(message_id, 91_101 + message_id % 3, at)
    videos = await _insert_videos(engine, snapshots)
    yield Rows(messages, [(at, delta) for _, at, delta in snapshots])
    await _remove_videos(engine, videos)
    await remove_chats(engine, [CHAT], [], chat.partitions)


# The tests' own reading of the rows: counts per window and the fires they make.


def _in_window(times: list[tuple[datetime, int]], end: datetime, window: timedelta) -> int:
    return sum(amount for at, amount in times if end - window <= at < end)


def _counted(rows: Rows) -> list[tuple[datetime, int]]:
    return [(at, 1) for at in rows.messages]


def _runs(flags: list[tuple[datetime, bool]]) -> list[tuple[datetime, datetime]]:
    """(first, last) end of each run of consecutive evaluations where the condition held."""
    runs: list[tuple[datetime, datetime]] = []
    previous = False
    for at, holds in flags:
        if holds and previous:
            runs[-1] = (runs[-1][0], at)
        elif holds:
            runs.append((at, at))
        previous = holds
    return runs


def _merged(runs: list[tuple[datetime, datetime]], keep: timedelta) -> int:
    """Runs left once those separated by fewer false hours than ``keep`` are joined."""
    groups = 0
    for index, (first, _) in enumerate(runs):
        if index == 0 or first - runs[index - 1][1] - HOUR >= keep:
            groups += 1
    return groups


def _flags(
    ends: list[datetime],
    sample: Callable[[datetime], float | None],
    condition: Callable[[float], bool],
) -> list[tuple[datetime, bool]]:
    flags = []
    for end in ends:
        value = sample(end)
        flags.append((end, value is not None and condition(value)))
    return flags


def _rule(text_: str) -> Rule:
    rule = compile_watch(text_, language="en", chat_id=CHAT, timezone="UTC", now=NOW)
    assert not isinstance(rule, WatchRefusal), rule
    return rule


HOURLY_ENDS = _hour_starts(PERIOD_START + HOUR, NOW.replace(minute=0) + HOUR)


def test_window_ends_are_whole_steps_before_now() -> None:
    """Hourly windows over 3 days end on the 72 whole hours in (now - 3 days, now]."""
    assert window_ends(NOW, DAYS, 3600) == HOURLY_ENDS
    assert len(HOURLY_ENDS) == 72 and HOURLY_ENDS[-1] == datetime(2024, 3, 15, tzinfo=UTC)


async def test_a_window_is_half_open(engine: AsyncEngine, rows: Rows) -> None:
    """A message sent exactly at 20:00 is in [19:30, 20:30) and [20:00, 21:00), not in
    [19:00, 20:00)."""
    source = _rule("messages in this chat exceed 5 per hour").source
    assert isinstance(source, MeasureSource)
    boundary = PERIOD_START + 20 * HOUR
    for at in (boundary, boundary + HOUR / 2, boundary + HOUR):
        expected = _in_window(_counted(rows), at, HOUR)
        assert await read_measure(source, at, engine=engine) == expected
    assert _in_window(_counted(rows), boundary + HOUR, HOUR) > 0


async def test_views_gained_by_a_creator_in_an_hour(engine: AsyncEngine, rows: Rows) -> None:
    """ "Views of creator X grow" reads the snapshots' delta_views_count summed over the hour."""
    source = _rule(f"views of creator {CREATOR} grow more than 50,000 in an hour").source
    assert isinstance(source, MeasureSource)
    for at in (PERIOD_START + 6 * HOUR, PERIOD_START + 30 * HOUR + HOUR / 4):
        expected = _in_window(rows.snapshots, at, HOUR)
        assert await read_measure(source, at, engine=engine) == expected


async def test_ratio_to_the_same_hour_last_week(engine: AsyncEngine, rows: Rows) -> None:
    """The ratio is this hour's count over the same hour's a week earlier; None when that
    hour had no messages."""
    source = _rule("messages in this chat drop 50% below the same hour last week").source
    assert isinstance(source, MeasureSource)
    counted = _counted(rows)
    at = PERIOD_START + 30 * HOUR
    base = _in_window(counted, at - WEEK, HOUR)
    assert base > 0
    assert await read_measure(source, at, engine=engine) == pytest.approx(
        _in_window(counted, at, HOUR) / base
    )
    assert await read_measure(source, PERIOD_START + 3 * HOUR, engine=engine) is None


def _message_flags(rows: Rows, ends: list[datetime]) -> list[tuple[datetime, bool]]:
    return _flags(ends, lambda end: _in_window(_counted(rows), end, HOUR), lambda v: v > LIMIT)


async def test_backtest_counts_each_rise_above_the_limit(engine: AsyncEngine, rows: Rows) -> None:
    """Four hours above 5 messages, two of them adjacent, fire three times; the first and
    last fire and the highest count are those of the rows."""
    rule = _rule(f"messages in this chat exceed {LIMIT} per hour")
    runs = _runs(_message_flags(rows, HOURLY_ENDS))
    assert len(runs) == 3
    result = await backtest(rule, engine=engine, now=NOW, days=DAYS)
    assert (result.fires, result.windows) == (len(runs), 72)
    assert (result.first_fire, result.last_fire) == (runs[0][0], runs[-1][0])
    assert result.max_value == max(_in_window(_counted(rows), end, HOUR) for end in HOURLY_ENDS)


async def test_backtest_honours_for(engine: AsyncEngine, rows: Rows) -> None:
    """With ``for: 1h`` only the two adjacent hours above the limit fire (once)."""
    rule = _rule(f"messages in this chat exceed {LIMIT} per hour").model_copy(
        update={"for_s": 3600.0}
    )
    runs = _runs(_message_flags(rows, HOURLY_ENDS))
    expected = sum(1 for first, last in runs if last - first >= HOUR)
    assert expected == 1
    result = await backtest(rule, engine=engine, now=NOW, days=DAYS)
    assert result.fires == expected


async def test_backtest_honours_keep_firing_for(engine: AsyncEngine, rows: Rows) -> None:
    """With ``keep_firing_for: 2h`` a one-hour dip does not end the alert: two fires."""
    rule = _rule(f"messages in this chat exceed {LIMIT} per hour").model_copy(
        update={"keep_firing_for_s": 7200.0}
    )
    expected = _merged(_runs(_message_flags(rows, HOURLY_ENDS)), timedelta(hours=2))
    assert expected == 2
    result = await backtest(rule, engine=engine, now=NOW, days=DAYS)
    assert result.fires == expected


async def test_backtest_with_overlapping_windows(engine: AsyncEngine, rows: Rows) -> None:
    """Hour-long windows stepped every 30 minutes: 144 windows, fires as the rows say."""
    rule = _rule(f"messages in this chat exceed {LIMIT} per hour")
    ends = [PERIOD_START + HOUR / 2 * index for index in range(1, 145)]
    expected = len(_runs(_message_flags(rows, ends)))
    result = await backtest(rule, engine=engine, now=NOW, days=DAYS, step_s=1800)
    assert (result.fires, result.windows) == (expected, 144)
    assert result.last_fire is not None and result.last_fire in ends


async def test_backtest_of_a_drop_against_last_week(engine: AsyncEngine, rows: Rows) -> None:
    """Each hour that falls below half of the same hour last week (after one that did not)
    fires; hours whose last-week hour was empty never do."""
    rule = _rule("messages in this chat drop 50% below the same hour last week")
    counted = _counted(rows)

    def ratio(end: datetime) -> float | None:
        base = _in_window(counted, end - WEEK, HOUR)
        return _in_window(counted, end, HOUR) / base if base else None

    runs = _runs(_flags(HOURLY_ENDS, ratio, lambda value: value < 0.5))
    assert len(runs) >= 2
    result = await backtest(rule, engine=engine, now=NOW, days=DAYS)
    assert (result.fires, result.first_fire, result.last_fire) == (
        len(runs),
        runs[0][0],
        runs[-1][0],
    )
    ratios = [value for value in map(ratio, HOURLY_ENDS) if value is not None]
    assert result.max_value == pytest.approx(max(ratios))


async def test_backtest_of_views_gained(engine: AsyncEngine, rows: Rows) -> None:
    """Views of the creator grow by more than 50,000 in three hours, two adjacent: two fires."""
    rule = _rule(f"views of creator {CREATOR} grow more than 50,000 in an hour")
    flags = _flags(
        HOURLY_ENDS, lambda end: _in_window(rows.snapshots, end, HOUR), lambda v: v > 50_000
    )
    expected = len(_runs(flags))
    assert expected == 2
    result = await backtest(rule, engine=engine, now=NOW, days=DAYS)
    assert result.fires == expected
    assert result.max_value == max(_in_window(rows.snapshots, end, HOUR) for end in HOURLY_ENDS)


async def test_a_chat_measure_needs_its_chat(engine: AsyncEngine) -> None:
    """A messages measure without a chat id is refused before any SQL runs."""
    source = _rule("messages in this chat exceed 5 per hour").source
    assert isinstance(source, MeasureSource)
    unscoped = source.model_copy(update={"chat_id": None})
    with pytest.raises(ValueError, match="chat"):
        await read_measure(unscoped, NOW, engine=engine)


async def test_backtest_rejects_a_metric_rule(engine: AsyncEngine) -> None:
    """Only measure rules have a history in PostgreSQL to replay."""
    rule = Rule.model_validate(
        {
            "name": "Failures",
            "source": {"kind": "metric", "metric": "answers_failed"},
            "condition": Condition(op=">", threshold=1),
            "summary": "failures",
        }
    )
    with pytest.raises(TypeError):
        await backtest(rule, engine=engine, now=NOW)


LAST = datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


def _result(fires: int, days: float = 30) -> Backtest:
    return Backtest(
        days=days,
        windows=720,
        fires=fires,
        first_fire=LAST - timedelta(days=3) if fires else None,
        last_fire=LAST if fires else None,
        max_value=10.0,
    )


@pytest.mark.parametrize(
    ("fires", "english", "russian"),
    [
        (
            3,
            "This would have fired 3 times in the last 30 days (last: 2026-11-02 14:00 UTC).",
            "За последние 30 дней это правило сработало бы 3 раза (последний раз: "
            "2026-11-02 14:00 UTC).",
        ),
        (
            1,
            "This would have fired once in the last 30 days (last: 2026-11-02 14:00 UTC).",
            "За последние 30 дней это правило сработало бы 1 раз (последний раз: "
            "2026-11-02 14:00 UTC).",
        ),
        (
            0,
            "This would not have fired in the last 30 days.",
            "За последние 30 дней это правило не сработало бы ни разу.",
        ),
        (
            12,
            "This would have fired 12 times in the last 30 days (last: 2026-11-02 14:00 UTC).",
            "За последние 30 дней это правило сработало бы 12 раз (последний раз: "
            "2026-11-02 14:00 UTC).",
        ),
    ],
)
def test_describe(fires: int, english: str, russian: str) -> None:
    """The backtest in a sentence, with the number of fires agreeing in Russian."""
    assert _result(fires).describe("en") == english
    assert _result(fires).describe("ru") == russian


def test_describe_a_single_day() -> None:
    """One day is "the last 1 day" / "последний 1 день"."""
    assert (
        _result(2, days=1)
        .describe("en")
        .endswith("in the last 1 day (last: 2026-11-02 14:00 UTC).")
    )
    assert _result(2, days=1).describe("ru").startswith("За последний 1 день")


def test_hourly_counts_helper_agrees_with_counter() -> None:
    """The tests' own window count equals a count by hour (guards the reference itself)."""
    times = [PERIOD_START + timedelta(minutes=m) for m in (0, 59, 60, 61, 150)]
    by_hour = Counter(at.replace(minute=0) for at in times)
    for end in _hour_starts(PERIOD_START + HOUR, PERIOD_START + 4 * HOUR):
        assert _in_window([(at, 1) for at in times], end, HOUR) == by_hour[end - HOUR]
