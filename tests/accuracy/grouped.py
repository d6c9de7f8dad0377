# ruff: noqa: E501  # questions and their reference SQL are quoted whole, one per line
"""The accuracy set's rankings, series, hour windows, one video's counters and ask-backs.

Reference SQL is written by hand, independently of the executor's compiler, and returns
``(label, value)`` rows as the answer shows them: a video's UUID or a creator id; an ISO day
(``2025-11-28``) or UTC hour (``2025-11-28T10:00Z``), every day or hour of the range present
(0 when nothing happened). A top list is ranked by the value, ties by label. A one-number
reference returns one row with label ``''``.

An ambiguous question names the reading to pick (``pick``, from 1): the case then checks
that the parser offers readings, and that the picked one answers right.
"""

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from tests.accuracy.questions import CREATORS, SAMPLE

A, _ = CREATORS


@dataclass(frozen=True, slots=True)
class GroupCase:
    """A question, its language, reference SQL returning (label, value) rows, its arguments,
    and for an ambiguous question the reading to pick (1-based)."""

    text: str
    language: str
    sql: str
    args: tuple[object, ...] = ()
    pick: int | None = None


def most_viewed_video(path: Path = SAMPLE) -> str:
    """The UUID of the sample's most viewed video (ties by id)."""
    with gzip.open(path, "rt", encoding="utf-8") as file:
        videos = json.load(file)["videos"]
    return str(min(videos, key=lambda video: (-video["views_count"], video["id"]))["id"])


V: Final = most_viewed_video()


def cases(
    en: list[str], ru: list[str], sql: str, *args: object, pick: int | None = None
) -> list[GroupCase]:
    return [GroupCase(text, "en", sql, args, pick) for text in en] + [
        GroupCase(text, "ru", sql, args, pick) for text in ru
    ]


def top(key: str, value: str, source: str, limit: int, order: str = "DESC") -> str:
    """A top list: ``key`` as text, ``value``, ranked by value then key."""
    return (
        f"SELECT {key}::text AS label, {value} AS value {source} GROUP BY 1 "
        f"ORDER BY 2 {order} NULLS LAST, 1 LIMIT {limit}"
    )


def daily(value: str, where: str, first: str, last: str) -> str:
    """A per-day series of snapshot ``value`` from ``first`` to ``last`` (UTC days, inclusive)."""
    return (
        f"SELECT to_char(d, 'YYYY-MM-DD') AS label, coalesce(({value}), 0) AS value "
        f"FROM generate_series('{first}'::date, '{last}'::date, interval '1 day') AS d "
        f"LEFT JOIN LATERAL (SELECT * FROM video_snapshots s WHERE {where} "
        f"AND (s.created_at AT TIME ZONE 'UTC')::date = d::date) s ON true GROUP BY d ORDER BY d"
    )


def hourly(value: str, day: str) -> str:
    """A per-hour series of snapshot ``value`` on ``day`` (24 UTC hours)."""
    return (
        f'SELECT to_char(h, \'YYYY-MM-DD"T"HH24:MI"Z"\') AS label, coalesce(({value}), 0) AS value '
        f"FROM generate_series('{day} 00:00'::timestamp, '{day} 23:00'::timestamp, interval '1 hour') AS h "
        f"LEFT JOIN LATERAL (SELECT * FROM video_snapshots s "
        f"WHERE date_trunc('hour', s.created_at AT TIME ZONE 'UTC') = h) s ON true GROUP BY h ORDER BY h"
    )


def one(sql: str) -> str:
    """A one-number reference as one row labelled ''."""
    return f"SELECT '' AS label, ({sql}) AS value"


NOV_28_UTC = "(s.created_at AT TIME ZONE 'UTC')::date = '2025-11-28'"

RANKINGS: Final = [
    *cases(
        ["Top 5 videos by views", "Show me the top 5 videos by views", "the 5 most viewed videos"],
        [
            "Топ-5 видео по просмотрам",
            "покажи топ 5 роликов по просмотрам",
            "Какие 5 видео набрали больше всего просмотров?",
        ],
        top("id", "sum(views_count)", "FROM videos", 5),
    ),
    *cases(
        ["Which video has the most likes?", "the most liked video"],
        ["Какое видео набрало больше всего лайков?", "топ 1 видео по лайкам"],
        top("id", "sum(likes_count)", "FROM videos", 1),
    ),
    *cases(
        ["Top 3 creators by views", "Which 3 creators have the most views?"],
        ["Топ-3 креаторов по просмотрам", "Какие 3 автора набрали больше всего просмотров?"],
        top("creator_id", "sum(views_count)", "FROM videos", 3),
    ),
    *cases(
        ["Which creator published the most videos?", "top 1 creator by number of videos"],
        [
            "Какой креатор опубликовал больше всего видео?",
            "Кто из блогеров выложил больше всего роликов?",
        ],
        top("creator_id", "count(*)", "FROM videos", 1),
    ),
    *cases(
        ["Top 5 creators by videos published in November 2025"],
        ["Топ-5 креаторов по числу видео, опубликованных в ноябре 2025"],
        top(
            "creator_id",
            "count(*)",
            "FROM videos WHERE (video_created_at AT TIME ZONE 'UTC')::date BETWEEN '2025-11-01' AND '2025-11-30'",
            5,
        ),
    ),
    *cases(
        ["Which 5 videos gained the most views on November 28, 2025?"],
        ["Какие 5 видео набрали больше всего просмотров 28 ноября 2025?"],
        top(
            "s.video_id",
            "sum(s.delta_views_count)",
            f"FROM video_snapshots s WHERE {NOV_28_UTC}",
            5,
        ),
    ),
    *cases(
        [f"Top 3 videos of creator {A} by comments"],
        [f"Топ-3 видео креатора {A} по комментариям"],
        top("id", "sum(comments_count)", "FROM videos WHERE creator_id = $1", 3),
        A,
    ),
    *cases(
        ["bottom 3 creators by likes"],
        ["антитоп-3 креаторов по лайкам"],
        top("creator_id", "sum(likes_count)", "FROM videos", 3, "ASC"),
    ),
]
"""Top lists of videos and creators, by final counters, by video count, and by growth."""

SERIES: Final = [
    *cases(
        [
            "views gained per day from November 20 to 30, 2025",
            "daily view growth between November 20-30, 2025",
        ],
        [
            "прирост просмотров по дням с 20 по 30 ноября 2025",
            "на сколько выросли просмотры по дням с 20.11.2025 по 30.11.2025",
        ],
        daily("sum(s.delta_views_count)", "true", "2025-11-20", "2025-11-30"),
    ),
    *cases(
        ["How many likes were gained each day in the last 7 days?"],
        ["Сколько лайков прибавилось за каждый день за последние 7 дней?"],
        daily("sum(s.delta_likes_count)", "true", "2025-11-25", "2025-12-01"),
    ),
    *cases(
        ["How many videos were published per day from November 1 to 10, 2025?"],
        ["Сколько видео опубликовано по дням с 1 по 10 ноября 2025?"],
        "SELECT to_char(d, 'YYYY-MM-DD'), (SELECT count(*) FROM videos WHERE (video_created_at AT TIME ZONE 'UTC')::date = d::date) "
        "FROM generate_series('2025-11-01'::date, '2025-11-10'::date, interval '1 day') AS d ORDER BY d",
    ),
    *cases(
        ["hourly view growth on November 28, 2025"],
        ["прирост просмотров по часам 28 ноября 2025"],
        hourly("sum(s.delta_views_count)", "2025-11-28"),
    ),
]
"""Series by day and by hour, with every day or hour of the range present."""

WINDOWS_AND_VIDEOS: Final = [
    *cases(
        ["How much did views grow on November 28, 2025 from 10:00 to 15:00?"],
        ["На сколько выросли просмотры 28 ноября 2025 с 10:00 до 15:00?"],
        one(
            "SELECT coalesce(sum(delta_views_count), 0) FROM video_snapshots "
            "WHERE created_at >= '2025-11-28T10:00Z' AND created_at < '2025-11-28T15:00Z'"
        ),
    ),
    *cases(
        [f"How many views does video {V} have?"],
        [f"Сколько просмотров у видео {V}?"],
        one("SELECT views_count FROM videos WHERE id = $1::uuid"),
        V,
    ),
    *cases(
        [f"How many likes did video {V} gain on November 28, 2025?"],
        [f"Сколько лайков набрало видео {V} 28 ноября 2025?"],
        one(
            f"SELECT coalesce(sum(delta_likes_count), 0) FROM video_snapshots s WHERE video_id = $1::uuid AND {NOV_28_UTC}"
        ),
        V,
    ),
]
"""Hour windows within a day, and the counters of one video."""

PICKED: Final = [
    *cases(
        ["How many views in November 2025?"],
        ["Сколько просмотров в ноябре 2025?"],
        one(
            "SELECT coalesce(sum(views_count), 0) FROM videos WHERE (video_created_at AT TIME ZONE 'UTC')::date BETWEEN '2025-11-01' AND '2025-11-30'"
        ),
        pick=1,
    ),
    *cases(
        ["How many views in November 2025?"],
        ["Сколько просмотров в ноябре 2025?"],
        one(
            "SELECT coalesce(sum(delta_views_count), 0) FROM video_snapshots s WHERE (s.created_at AT TIME ZONE 'UTC')::date BETWEEN '2025-11-01' AND '2025-11-30'"
        ),
        pick=2,
    ),
    *cases(
        ["How many videos with more than 10000 views in November 2025?"],
        ["Сколько видео с более чем 10000 просмотров в ноябре 2025?"],
        one(
            "SELECT count(DISTINCT video_id) FROM video_snapshots s WHERE views_count > 10000 AND (s.created_at AT TIME ZONE 'UTC')::date BETWEEN '2025-11-01' AND '2025-11-30'"
        ),
        pick=2,
    ),
    *cases(
        ["top creators"],
        ["топ креаторов"],
        top("creator_id", "count(*)", "FROM videos", 10),
        pick=3,
    ),
    *cases(
        [f"stats of video {V}"],
        [f"статистика видео {V}"],
        one("SELECT likes_count FROM videos WHERE id = $1::uuid"),
        V,
        pick=2,
    ),
]
"""Ambiguous questions: the readings are offered, and the picked one answers right."""

GROUPED: Final = [*RANKINGS, *SERIES, *WINDOWS_AND_VIDEOS, *PICKED]
