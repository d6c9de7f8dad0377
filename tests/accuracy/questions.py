# ruff: noqa: E501  # questions and their reference SQL are quoted whole, one per line
"""The public accuracy set: questions in English and Russian with reference SQL written here.

Each case is a question as a person might type it (varied wording, number and date formats,
mixed case, a few typos) and the SQL that answers it, written by hand against the tables of
seed 000, independently of the executor's compiler. ``$n`` parameters are bound from
``args``; the creator ids are the sample's two busiest creators (:data:`CREATORS`).
"today" is :data:`TODAY` (UTC), so "yesterday" is 30 Nov 2025 and "last month" November.
"""

import gzip
import json
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

SAMPLE: Final = Path(__file__).resolve().parents[2] / "data" / "videos.json.gz"
TODAY: Final = date(2025, 12, 1)


@dataclass(frozen=True, slots=True)
class Case:
    """One question, its language, and the reference SQL with its arguments."""

    text: str
    language: str
    sql: str
    args: tuple[object, ...] = ()


def busiest_creators(path: Path = SAMPLE) -> tuple[str, str]:
    """The two creators with the most videos in the sample (ties by id)."""
    with gzip.open(path, "rt", encoding="utf-8") as file:
        videos = json.load(file)["videos"]
    counts = Counter(video["creator_id"] for video in videos)
    ranked = sorted(counts, key=lambda creator: (-counts[creator], creator))
    return ranked[0], ranked[1]


CREATORS: Final = busiest_creators()
A, B = CREATORS


def published(first: str, last: str) -> str:
    """Videos published from ``first`` to ``last`` (ISO days, both inclusive, UTC)."""
    return f"(video_created_at AT TIME ZONE 'UTC')::date BETWEEN '{first}' AND '{last}'"


def measured(first: str, last: str) -> str:
    """Snapshots taken from ``first`` to ``last`` (ISO days, both inclusive, UTC)."""
    return f"(s.created_at AT TIME ZONE 'UTC')::date BETWEEN '{first}' AND '{last}'"


def cases(en: list[str], ru: list[str], sql: str, *args: object) -> list[Case]:
    """The same question worded several ways in each language, with one reference SQL."""
    return [Case(text, "en", sql, args) for text in en] + [
        Case(text, "ru", sql, args) for text in ru
    ]


VIDEOS = "SELECT count(*) FROM videos"
NOV = published("2025-11-01", "2025-11-30")
OCT = published("2025-10-01", "2025-10-31")
NOV_1_5 = published("2025-11-01", "2025-11-05")

COUNTS: Final = [
    *cases(
        [
            "How many videos are in the system?",
            "how many videos are there",
            "Total number of videos?",
            "HOW MANY VIDEOS DO WE HAVE?",
        ],
        [
            "Сколько всего видео есть в системе?",
            "сколько роликов в базе",
            "Количество видео?",
            "СКОЛЬКО ВСЕГО ВИДОСОВ?",
        ],
        VIDEOS,
    ),
    *cases(
        [
            f"How many videos does creator {A} have?",
            f"number of videos by creator {A}",
            f"How many clips has author {A} published?",
        ],
        [
            f"Сколько видео у креатора с id {A}?",
            f"сколько роликов у автора {A}",
            f"Сколько видео опубликовал блогер {A}?",
        ],
        f"{VIDEOS} WHERE creator_id = $1",
        A,
    ),
    *cases(
        [f"How many videos does creator {B} have?", f"count of videos from creator id {B}"],
        [f"Сколько видосов у креатора {B}?", f"Количество видео креатора с идентификатором {B}"],
        f"{VIDEOS} WHERE creator_id = $1",
        B,
    ),
    *cases(
        [
            "How many videos were published in November 2025?",
            "how many videos came out in Nov 2025",
            "Videos uploaded in november 2025: how many?",
        ],
        [
            "Сколько видео опубликовано в ноябре 2025?",
            "сколько роликов вышло в ноябре 2025 года",
            "Сколько видео выложено в ноябре?",
        ],
        f"{VIDEOS} WHERE {NOV}",
    ),
    *cases(
        [
            "How many videos were published in October?",
            "How many videos were released in October 2025?",
        ],
        ["Сколько видео вышло в октябре?", "Сколько роликов опубликовали в октябре 2025?"],
        f"{VIDEOS} WHERE {OCT}",
    ),
    *cases(
        ["How many videos were published last month?"],
        ["Сколько видео опубликовано в прошлом месяце?"],
        f"{VIDEOS} WHERE {NOV}",
    ),
    *cases(
        [
            "How many videos were published between November 1-5, 2025?",
            "how many videos were posted from 2025-11-01 to 2025-11-05?",
        ],
        [
            "Сколько видео вышло с 1 по 5 ноября 2025 включительно?",
            "Сколько видео опубликовано с 01.11.2025 по 05.11.2025?",
        ],
        f"{VIDEOS} WHERE {NOV_1_5}",
    ),
    *cases(
        [
            "How many videos were published on November 20, 2025?",
            "How many videos were uploaded on 2025-11-20?",
        ],
        ["Сколько видео опубликовано 20 ноября 2025?", "Сколько роликов вышло 20.11.2025?"],
        f"{VIDEOS} WHERE {published('2025-11-20', '2025-11-20')}",
    ),
    *cases(
        [
            "How many videos were published in September 2025?",
            "how many videos were published during Sept 2025",
        ],
        ["Сколько видео опубликовано в сентябре 2025?", "Сколько видео выложено за сентябрь 2025?"],
        "SELECT count(*) FROM videos WHERE (video_created_at AT TIME ZONE 'UTC')::date"
        " BETWEEN $1::date AND $2::date",
        date(2025, 9, 1),
        date(2025, 9, 30),
    ),
    *cases(
        ["How many videos were published in 2025?"],
        ["Сколько видео опубликовано в 2025 году?"],
        f"{VIDEOS} WHERE {published('2025-01-01', '2025-12-31')}",
    ),
    *cases(
        ["How many videos were published yesterday?"],
        ["Сколько видео вышло вчера?"],
        f"{VIDEOS} WHERE {published('2025-11-30', '2025-11-30')}",
    ),
    *cases(
        [
            "How many videos were published last week?",
            "how many videos came out in the previous week",
        ],
        [
            "Сколько видео опубликовано на прошлой неделе?",
            "Сколько роликов вышло за прошлую неделю?",
        ],
        f"{VIDEOS} WHERE {published('2025-11-24', '2025-11-30')}",
    ),
    *cases(
        ["How many videos were published 3 days ago?"],
        ["Сколько видео вышло 3 дня назад?"],
        f"{VIDEOS} WHERE {published('2025-11-28', '2025-11-28')}",
    ),
    *cases(
        ["How many videos have no reports?", "How many videos have zero complaints?"],
        ["Сколько видео без жалоб?", "Сколько роликов с нулём жалоб?"],
        f"{VIDEOS} WHERE reports_count = 0",
    ),
    *cases(
        ["How many videos were published in the last 7 days?"],
        ["Сколько видео опубликовано за последние 7 дней?"],
        f"{VIDEOS} WHERE {published('2025-11-25', '2025-12-01')}",
    ),
]
"""Counts of videos: everything, by creator, by publication date."""

THRESHOLDS: Final = [
    *cases(
        [
            "How many videos got more than 100,000 views?",
            "how many videos have over 100k views",
            "Number of videos with more than 100000 views",
        ],
        [
            "Сколько видео набрало больше 100 000 просмотров за всё время?",
            "сколько роликов набрали более 100 тыс просмотров",
            "Сколько видео, у которых просмотров больше 100000?",
        ],
        f"{VIDEOS} WHERE views_count > $1",
        100_000,
    ),
    *cases(
        [
            "How many videos have at least 1,000,000 views?",
            "How many videos have at least 1 million views?",
        ],
        [
            "Сколько видео набрали не менее 1 млн просмотров?",
            "Сколько видео с минимум 1 000 000 просмотров?",
        ],
        f"{VIDEOS} WHERE views_count >= $1",
        1_000_000,
    ),
    *cases(
        [
            "How many videos have fewer than 10,000 views?",
            "how many videos got less than 10k views?",
        ],
        [
            "Сколько видео набрало меньше 10 000 просмотров?",
            "Сколько роликов, у которых меньше 10 тыс. просмотров?",
        ],
        f"{VIDEOS} WHERE views_count < $1",
        10_000,
    ),
    *cases(
        ["How many videos have at least 500 likes?", "How many videos got 500+ likes?"],
        ["Сколько видео имеют не меньше 500 лайков?", "Сколько видео набрали от 500 лайков?"],
        f"{VIDEOS} WHERE likes_count >= $1",
        500,
    ),
    *cases(
        ["How many videos have more than 10,000 likes?", "How many videos have over 10k likes?"],
        ["Сколько видео набрали больше 10 000 лайков?", "Сколько роликов с лайками больше 10000?"],
        f"{VIDEOS} WHERE likes_count > $1",
        10_000,
    ),
    *cases(
        [
            "How many videos have at most 100 comments?",
            "How many videos have no more than 100 comments?",
        ],
        [
            "Сколько видео имеют не более 100 комментариев?",
            "Сколько видео, у которых комментариев не больше 100?",
        ],
        f"{VIDEOS} WHERE comments_count <= $1",
        100,
    ),
    *cases(
        ["How many videos have more than 1,000 comments?"],
        ["Сколько видео получили больше 1000 комментариев?"],
        f"{VIDEOS} WHERE comments_count > $1",
        1_000,
    ),
    *cases(
        [
            "How many videos have fewer than 5 reports?",
            "How many videos got less than 5 complaints?",
        ],
        ["Сколько видео с меньше чем 5 жалобами?", "Сколько видео получили менее 5 жалоб?"],
        f"{VIDEOS} WHERE reports_count < $1",
        5,
    ),
    *cases(
        ["How many videos have exactly 0 reports?"],
        ["Сколько видео имеют ровно 0 жалоб?"],
        f"{VIDEOS} WHERE reports_count = $1",
        0,
    ),
    *cases(
        [
            "How many videos published in November 2025 have more than 50,000 views?",
            "How many videos were published in Nov 2025 with over 50k views?",
        ],
        [
            "Сколько видео, опубликованных в ноябре 2025, набрали больше 50 000 просмотров?",
            "Сколько роликов вышло в ноябре 2025 с более чем 50 тыс просмотров?",
        ],
        f"{VIDEOS} WHERE views_count > $1 AND {NOV}",
        50_000,
    ),
    *cases(
        [
            f"How many videos of creator {A} have more than 50,000 views?",
            f"How many videos by creator {A} got over 50k views?",
        ],
        [
            f"Сколько видео креатора {A} набрали больше 50 000 просмотров?",
            f"Сколько роликов у автора {A} с просмотрами больше 50000?",
        ],
        f"{VIDEOS} WHERE creator_id = $1 AND views_count > $2",
        A,
        50_000,
    ),
    *cases(
        [
            f"How many videos from creator {A} were published between November 1-5, 2025?",
            f"How many videos did creator {A} publish from Nov 1 to Nov 5, 2025?",
        ],
        [
            f"Сколько видео у креатора с id {A} вышло с 1 ноября 2025 по 5 ноября 2025 включительно?",
            f"Сколько видео опубликовал автор {A} с 1 по 5 ноября 2025?",
        ],
        f"{VIDEOS} WHERE creator_id = $1 AND {NOV_1_5}",
        A,
    ),
    *cases(
        [
            f"How many videos from creator {B} were published in November 2025?",
            f"How many videos did creator {B} upload in Nov 2025?",
        ],
        [
            f"Сколько видео креатора {B} опубликовано в ноябре 2025?",
            f"Сколько роликов блогера {B} вышло в ноябре 2025 года?",
        ],
        f"{VIDEOS} WHERE creator_id = $1 AND (video_created_at AT TIME ZONE 'UTC')::date"
        " BETWEEN $2::date AND $3::date",
        B,
        date(2025, 11, 1),
        date(2025, 11, 30),
    ),
    *cases(
        [f"How many videos by creator {A} published in November 2025 have at least 1000 likes?"],
        [
            f"Сколько видео креатора {A}, опубликованных в ноябре 2025, набрали не менее 1000 лайков?"
        ],
        f"{VIDEOS} WHERE creator_id = $1 AND likes_count >= $2 AND {NOV}",
        A,
        1_000,
    ),
    *cases(
        ["How many videos have more than 100000 views and more than 5000 likes?"],
        ["Сколько видео набрали больше 100000 просмотров и больше 5000 лайков?"],
        f"{VIDEOS} WHERE views_count > $1 AND likes_count > $2",
        100_000,
        5_000,
    ),
    *cases(
        [
            "how many vidoes have more than 100000 veiws?",
            "How many videos have more than 100,000 viewes?",
        ],
        [
            "Сколько видео набрали больше 100000 просмотов?",
            "Сколько видео набрали больше 100 000 просмтров?",
        ],
        f"{VIDEOS} WHERE views_count > $1",
        100_000,
    ),
    *cases(
        ["How many videos got more than 20,000 views?"],
        ["Сколько видео набрали больше 20 000 просмотров?"],
        f"{VIDEOS} WHERE views_count > $1",
        20_000,
    ),
]
"""Counts of videos with thresholds on their final counters, alone and combined."""

SUMS = {"sum": "coalesce(sum({0}), 0)", "avg": "avg({0})", "max": "max({0})", "min": "min({0})"}
AGGREGATES: Final = [
    *cases(
        [
            "How many total likes do all videos have?",
            "what is the total number of likes?",
            "Sum of likes across all videos",
        ],
        [
            "Сколько всего лайков у всех видео?",
            "Суммарное количество лайков?",
            "общее число лайков у роликов",
        ],
        "SELECT coalesce(sum(likes_count), 0) FROM videos",
    ),
    *cases(
        [
            "How many views do all videos have in total?",
            "Total views?",
            "how many views altogether",
        ],
        [
            "Сколько просмотров у всех видео?",
            "Сколько всего просмотров?",
            "Сумма просмотров всех роликов",
        ],
        "SELECT coalesce(sum(views_count), 0) FROM videos",
    ),
    *cases(
        ["How many comments do all videos have in total?", "Total number of comments"],
        ["Сколько всего комментариев у всех видео?", "общее количество комментариев"],
        "SELECT coalesce(sum(comments_count), 0) FROM videos",
    ),
    *cases(
        ["How many reports do videos have in total?", "Total complaints across all videos?"],
        ["Сколько всего жалоб у всех видео?", "Суммарное число жалоб"],
        "SELECT coalesce(sum(reports_count), 0) FROM videos",
    ),
    *cases(
        [
            f"How many views do the videos of creator {A} have in total?",
            f"total views of creator {A}",
        ],
        [f"Сколько всего просмотров у видео креатора {A}?", f"Сумма просмотров роликов автора {A}"],
        "SELECT coalesce(sum(views_count), 0) FROM videos WHERE creator_id = $1",
        A,
    ),
    *cases(
        ["How many likes do videos published in November 2025 have in total?"],
        ["Сколько всего лайков у видео, опубликованных в ноябре 2025?"],
        f"SELECT coalesce(sum(likes_count), 0) FROM videos WHERE {NOV}",
    ),
    *cases(
        [
            "What is the average number of views per video?",
            "average views per video",
            "Mean views of a video?",
        ],
        [
            "Среднее число просмотров на видео?",
            "Сколько в среднем просмотров у видео?",
            "среднее количество просмотров у ролика",
        ],
        "SELECT avg(views_count) FROM videos",
    ),
    *cases(
        ["What is the average number of likes per video?"],
        ["Среднее число лайков на видео?"],
        "SELECT avg(likes_count) FROM videos",
    ),
    *cases(
        [f"Average likes of videos by creator {A}?"],
        [f"Среднее количество лайков у видео креатора {A}"],
        "SELECT avg(likes_count) FROM videos WHERE creator_id = $1",
        A,
    ),
    *cases(
        [
            "What is the maximum number of views of a video?",
            "highest view count of a video?",
            "Max views?",
        ],
        [
            "Какое максимальное число просмотров у видео?",
            "Максимум просмотров у одного ролика?",
            "Наибольшее количество просмотров у видео",
        ],
        "SELECT max(views_count) FROM videos",
    ),
    *cases(
        [
            "What is the minimum number of comments on a video?",
            "lowest number of comments of a video",
        ],
        [
            "Какое минимальное число комментариев у видео?",
            "Минимальное количество комментариев у ролика?",
        ],
        "SELECT min(comments_count) FROM videos",
    ),
    *cases(
        ["What is the maximum number of likes of a video published in October 2025?"],
        ["Какое максимальное число лайков у видео, опубликованного в октябре 2025?"],
        f"SELECT max(likes_count) FROM videos WHERE {OCT}",
    ),
    *cases(
        [f"What is the minimum number of views of a video by creator {B}?"],
        [f"Минимальное число просмотров у видео креатора {B}?"],
        "SELECT min(views_count) FROM videos WHERE creator_id = $1",
        B,
    ),
    *cases(
        ["What is the maximum number of reports of a video?"],
        ["Максимальное число жалоб у видео?"],
        "SELECT max(reports_count) FROM videos",
    ),
]
"""Sums, averages, maxima and minima of final counters."""

CREATOR_COUNTS: Final = [
    *cases(
        [
            "How many creators are there?",
            "How many different authors are in the system?",
            "number of bloggers",
        ],
        ["Сколько креаторов?", "Сколько разных авторов в системе?", "Количество блогеров"],
        "SELECT count(DISTINCT creator_id) FROM videos",
    ),
    *cases(
        [
            "How many creators published videos in November 2025?",
            "How many creators uploaded videos in November?",
        ],
        [
            "Сколько креаторов опубликовали видео в ноябре 2025?",
            "Сколько авторов выложили ролики в ноябре?",
        ],
        "SELECT count(DISTINCT creator_id) FROM videos WHERE (video_created_at AT TIME ZONE 'UTC')::date"
        " BETWEEN $1::date AND $2::date",
        date(2025, 11, 1),
        date(2025, 11, 30),
    ),
    *cases(
        ["How many creators published videos between November 1-5, 2025?"],
        ["Сколько креаторов выложили видео с 1 по 5 ноября 2025?"],
        f"SELECT count(DISTINCT creator_id) FROM videos WHERE {NOV_1_5}",
    ),
]
"""Counts of distinct creators."""

SNAPSHOTS = "FROM video_snapshots s"
BY_CREATOR = "FROM video_snapshots s JOIN videos v ON v.id = s.video_id WHERE v.creator_id = $1 AND"
NOV_28 = measured("2025-11-28", "2025-11-28")
NOV_27 = measured("2025-11-27", "2025-11-27")
GROWTH: Final = [
    *cases(
        [
            "What was the total view growth on November 27, 2025?",
            "How many views did videos gain on 2025-11-27?",
            "How many views did all videos get on 27.11.2025?",
        ],
        [
            "На сколько просмотров в сумме выросли все видео 27 ноября 2025?",
            "Суммарный прирост просмотров 27.11.2025?",
            "Сколько просмотров набрали видео 27 ноября 2025?",
        ],
        f"SELECT coalesce(sum(s.delta_views_count), 0) {SNAPSHOTS} WHERE {NOV_27}",
    ),
    *cases(
        ["What was the total view growth on November 28, 2025?", "view growth on Nov 28th 2025"],
        [
            "На сколько просмотров в сумме выросли все видео 28 ноября 2025?",
            "прирост просмотров за 28 ноября 2025",
        ],
        f"SELECT coalesce(sum(s.delta_views_count), 0) {SNAPSHOTS} WHERE {NOV_28}",
    ),
    *cases(
        ["How many likes did videos gain yesterday?", "Total like growth yesterday?"],
        ["На сколько выросли лайки вчера?", "Сколько лайков прибавилось вчера?"],
        f"SELECT coalesce(sum(s.delta_likes_count), 0) {SNAPSHOTS} WHERE {measured('2025-11-30', '2025-11-30')}",
    ),
    *cases(
        [
            "How many comments did videos gain from November 26 to November 28, 2025?",
            "Comment growth between Nov 26-28, 2025?",
        ],
        [
            "На сколько выросло число комментариев с 26 по 28 ноября 2025?",
            "Прирост комментариев с 26.11.2025 по 28.11.2025",
        ],
        f"SELECT coalesce(sum(s.delta_comments_count), 0) {SNAPSHOTS} WHERE {measured('2025-11-26', '2025-11-28')}",
    ),
    *cases(
        [
            "What was the total growth of views in November 2025?",
            "How many views were gained in November 2025?",
        ],
        [
            "Суммарный прирост просмотров в ноябре 2025?",
            "На сколько выросли просмотры за ноябрь 2025?",
        ],
        f"SELECT coalesce(sum(s.delta_views_count), 0) {SNAPSHOTS} WHERE {measured('2025-11-01', '2025-11-30')}",
    ),
    *cases(
        [
            f"How many views did the videos of creator {A} gain on November 28, 2025?",
            f"View growth of creator {A} on 2025-11-28?",
        ],
        [
            f"Сколько просмотров прибавили видео креатора {A} 28 ноября 2025?",
            f"Прирост просмотров у автора {A} за 28.11.2025",
        ],
        f"SELECT coalesce(sum(s.delta_views_count), 0) {BY_CREATOR} {NOV_28}",
        A,
    ),
    *cases(
        [f"How many likes did creator {B}'s videos gain between November 26-30, 2025?"],
        [f"На сколько выросли лайки у видео креатора {B} с 26 по 30 ноября 2025?"],
        f"SELECT coalesce(sum(s.delta_likes_count), 0) {BY_CREATOR} {measured('2025-11-26', '2025-11-30')}",
        B,
    ),
    *cases(
        ["What was the maximum view growth in one snapshot on November 28, 2025?"],
        ["Какой максимальный прирост просмотров за замер 28 ноября 2025?"],
        f"SELECT max(s.delta_views_count) {SNAPSHOTS} WHERE {NOV_28}",
    ),
    *cases(
        ["What was the average view growth per snapshot on November 27, 2025?"],
        ["Средний прирост просмотров за замер 27 ноября 2025?"],
        f"SELECT avg(s.delta_views_count) {SNAPSHOTS} WHERE {NOV_27}",
    ),
]
"""Growth: sums (and per-snapshot extremes) of deltas over a day or a range."""

DISTINCT = "SELECT count(DISTINCT s.video_id) FROM video_snapshots s WHERE"
GREW: Final = [
    *cases(
        [
            "How many videos gained views on November 28, 2025?",
            "How many different videos got new views on 2025-11-28?",
            "how many videos grew in views on 28.11.2025",
        ],
        [
            "Сколько разных видео получали новые просмотры 28 ноября 2025?",
            "Сколько видео набрали просмотры 28.11.2025?",
            "Сколько роликов выросло по просмотрам 28 ноября 2025?",
        ],
        f"{DISTINCT} s.delta_views_count > 0 AND {NOV_28}",
    ),
    *cases(
        ["How many videos gained views on November 27, 2025?"],
        ["Сколько разных видео получали новые просмотры 27 ноября 2025?"],
        f"{DISTINCT} s.delta_views_count > 0 AND {NOV_27}",
    ),
    *cases(
        ["How many videos gained likes yesterday?", "How many videos got new likes yesterday?"],
        ["Сколько видео получили новые лайки вчера?", "Сколько видео набрали лайки вчера?"],
        f"{DISTINCT} s.delta_likes_count > 0 AND {measured('2025-11-30', '2025-11-30')}",
    ),
    *cases(
        ["How many videos gained comments between November 26-27, 2025?"],
        ["Сколько видео получали новые комментарии с 26 по 27 ноября 2025?"],
        f"{DISTINCT} s.delta_comments_count > 0 AND {measured('2025-11-26', '2025-11-27')}",
    ),
    *cases(
        ["How many videos gained reports on November 29, 2025?"],
        ["Сколько видео получили новые жалобы 29 ноября 2025?"],
        f"{DISTINCT} s.delta_reports_count > 0 AND {measured('2025-11-29', '2025-11-29')}",
    ),
]
"""How many distinct videos grew during a day or a range."""

SNAPSHOT_COUNTS: Final = [
    *cases(
        [
            "How many snapshots had negative view deltas?",
            "How many snapshots had decreased views?",
            "count of measurements with negative views delta",
        ],
        [
            "Сколько замеров с отрицательным приростом просмотров?",
            "Сколько снапшотов, где просмотры уменьшились?",
            "Количество замеров с падением просмотров",
        ],
        "SELECT count(*) FROM video_snapshots WHERE delta_views_count < 0",
    ),
    *cases(
        ["How many snapshots had negative like deltas?", "How many snapshots lost likes?"],
        [
            "Сколько замеров с отрицательным приростом лайков?",
            "Сколько замеров, где лайки снизились?",
        ],
        "SELECT count(*) FROM video_snapshots WHERE delta_likes_count < 0",
    ),
    *cases(
        ["How many snapshots had negative view deltas on November 28, 2025?"],
        ["Сколько замеров с отрицательным приростом просмотров 28 ноября 2025?"],
        f"SELECT count(*) {SNAPSHOTS} WHERE s.delta_views_count < 0 AND {NOV_28}",
    ),
    *cases(
        ["How many snapshots are there?"],
        ["Сколько всего замеров?"],
        "SELECT count(*) FROM video_snapshots",
    ),
    *cases(
        ["How many hourly snapshots were taken on November 28, 2025?"],
        ["Сколько замеров сделано 28 ноября 2025?"],
        f"SELECT count(*) {SNAPSHOTS} WHERE {NOV_28}",
    ),
]
"""Snapshots: those that went negative, and all of them."""

ANSWERABLE: Final = [
    *COUNTS,
    *THRESHOLDS,
    *AGGREGATES,
    *CREATOR_COUNTS,
    *GROWTH,
    *GREW,
    *SNAPSHOT_COUNTS,
]
"""Every question of the set that has one right number."""
