# ruff: noqa: E501  # questions and their reference SQL are quoted whole, one per line
"""The held-out set of issue 12: questions the built-in parser was not tuned on.

Each case is a question in English or Russian (Russian phrased as a Russian speaker would
ask it, not translated word for word), the kind of language it tests, and its gold: SQL
written by hand from the question's plain meaning, against the tables of the sample data
(data/videos.json.gz), independently of the parser and of the executor's compiler. ``$n``
parameters are bound from ``args``. A gold of ``None`` marks a question with no single right
number on this data (vague, undefined, or about facts the data does not hold): it must be
refused or asked back, and any number is wrong.

Conventions shared by every kind:

- "today" is :data:`TODAY` (1 Dec 2025); dates are UTC calendar days of
  ``video_created_at`` (videos) or ``created_at`` (snapshots);
- a count of videos compares their final counters (``videos.*_count``); growth is the sum of
  snapshot deltas; the snapshots cover 26-30 Nov 2025 only;
- a superlative breaks ties by video id (no gold here depends on a tie);
- creators :data:`A` and :data:`B` are the sample's two busiest (:func:`busiest_creators`).
"""

from dataclasses import dataclass, replace
from typing import Final, Literal

from tally.contracts.events import Language
from tests.accuracy.questions import CREATORS, TODAY, measured, published

__all__ = ["HELDOUT", "KINDS", "TODAY", "Case"]

A, B = CREATORS

Unit = Literal["number", "percent"]


@dataclass(frozen=True, slots=True)
class Case:
    """One question: its text, language, kind, gold SQL (None: must be refused or asked
    back) with its arguments, and the gold's unit (a percent accepts a fraction too)."""

    text: str
    language: Language
    kind: str
    gold: str | None
    args: tuple[object, ...] = ()
    unit: Unit = "number"


def en(text: str, gold: str | None, *args: object, unit: Unit = "number") -> Case:
    """An English question (its kind is set by :func:`kind`)."""
    return Case(text, "en", "", gold, args, unit)


def ru(text: str, gold: str | None, *args: object, unit: Unit = "number") -> Case:
    """A Russian question (its kind is set by :func:`kind`)."""
    return Case(text, "ru", "", gold, args, unit)


def kind(name: str, cases: list[Case]) -> list[Case]:
    """``cases`` labelled with the kind ``name``."""
    return [replace(case, kind=name) for case in cases]


VIDEOS = "SELECT count(*) FROM videos"
SNAPSHOTS = "SELECT count(*) FROM video_snapshots s"
BY_CREATOR = "SELECT count(*) FROM video_snapshots s JOIN videos v ON v.id = s.video_id WHERE v.creator_id = $1 AND"
DAY = "(video_created_at AT TIME ZONE 'UTC')::date"
CLOCK = "(video_created_at AT TIME ZONE 'UTC')::time"
DOW = "extract(isodow FROM video_created_at AT TIME ZONE 'UTC')"
WEEK = "date_trunc('week', video_created_at AT TIME ZONE 'UTC')"
OCT = published("2025-10-01", "2025-10-31")
NOV = published("2025-11-01", "2025-11-30")


def median(column: str, source: str = "FROM videos") -> str:
    """The median of ``column`` (``percentile_cont(0.5)``: the mean of the two middle values)."""
    return f"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY {column}) {source}"


def share(condition: str, source: str = "FROM videos") -> str:
    """The percent of the rows of ``source`` meeting ``condition``, rounded to 1 decimal."""
    return f"SELECT round(100.0 * count(*) FILTER (WHERE {condition}) / count(*), 1) {source}"


def creators_having(condition: str) -> str:
    """The number of creators whose videos, taken together, meet ``condition`` (a HAVING)."""
    return f"SELECT count(*) FROM (SELECT creator_id FROM videos GROUP BY creator_id HAVING {condition}) c"


COUNTER_VS_COUNTER: Final = kind(
    "counter_vs_counter",
    [
        en(
            "How many videos have more comments than likes?",
            f"{VIDEOS} WHERE comments_count > likes_count",
        ),
        en(
            "How many videos have more comments than reports?",
            f"{VIDEOS} WHERE comments_count > reports_count",
        ),
        en(
            "How many videos have exactly as many reports as comments?",
            f"{VIDEOS} WHERE reports_count = comments_count",
        ),
        en(
            "In how many snapshots did comments grow more than likes?",
            f"{SNAPSHOTS} WHERE s.delta_comments_count > s.delta_likes_count",
        ),
        en(
            "How many hourly snapshots show more new likes than new views?",
            f"{SNAPSHOTS} WHERE s.delta_likes_count > s.delta_views_count",
        ),
        en(
            f"How many of creator {B}'s videos have fewer reports than comments?",
            f"{VIDEOS} WHERE creator_id = $1 AND reports_count < comments_count",
            B,
        ),
        ru(
            "Сколько видео, где комментариев больше, чем лайков?",
            f"{VIDEOS} WHERE comments_count > likes_count",
        ),
        ru(
            "У скольких роликов жалоб меньше, чем комментариев?",
            f"{VIDEOS} WHERE reports_count < comments_count",
        ),
        ru(
            "Сколько видео, у которых жалоб ровно столько же, сколько комментариев?",
            f"{VIDEOS} WHERE reports_count = comments_count",
        ),
        ru(
            "В скольких замерах комментариев прибавилось больше, чем лайков?",
            f"{SNAPSHOTS} WHERE s.delta_comments_count > s.delta_likes_count",
        ),
        ru(
            "Сколько замеров, где прирост лайков превысил прирост просмотров?",
            f"{SNAPSHOTS} WHERE s.delta_likes_count > s.delta_views_count",
        ),
        ru(
            f"Сколько роликов автора {B} собрали больше комментариев, чем жалоб?",
            f"{VIDEOS} WHERE creator_id = $1 AND comments_count > reports_count",
            B,
        ),
    ],
)
"""One counter against another of the same row, strictly ("more X than Y" is ``X > Y``): a
video's final counters, or a snapshot's deltas when the question is about growth."""

RANGE: Final = kind(
    "range",
    [
        en(
            "How many videos have from 200 to 800 likes?",
            f"{VIDEOS} WHERE likes_count BETWEEN 200 AND 800",
        ),
        en(
            "How many videos have between 10 and 50 comments?",
            f"{VIDEOS} WHERE comments_count BETWEEN 10 AND 50",
        ),
        en(
            "how many videos got 10k-50k views",
            f"{VIDEOS} WHERE views_count BETWEEN 10000 AND 50000",
        ),
        en(
            "Count the videos whose reports are in the 5 to 20 range",
            f"{VIDEOS} WHERE reports_count BETWEEN 5 AND 20",
        ),
        en(
            f"How many videos of creator {A} have between 1,000 and 5,000 likes?",
            f"{VIDEOS} WHERE creator_id = $1 AND likes_count BETWEEN 1000 AND 5000",
            A,
        ),
        en(
            "How many snapshots gained between 100 and 500 views?",
            f"{SNAPSHOTS} WHERE s.delta_views_count BETWEEN 100 AND 500",
        ),
        ru(
            "Сколько видео набрали от 200 до 800 лайков?",
            f"{VIDEOS} WHERE likes_count BETWEEN 200 AND 800",
        ),
        ru(
            "Сколько роликов имеют от 10 до 50 комментариев включительно?",
            f"{VIDEOS} WHERE comments_count BETWEEN 10 AND 50",
        ),
        ru(
            "Сколько видео, у которых просмотров в пределах от 10 000 до 50 000?",
            f"{VIDEOS} WHERE views_count BETWEEN 10000 AND 50000",
        ),
        ru("У скольких видео от 5 до 20 жалоб?", f"{VIDEOS} WHERE reports_count BETWEEN 5 AND 20"),
        ru(
            f"Сколько видео креатора {B} набрали от 1 тыс. до 5 тыс. лайков?",
            f"{VIDEOS} WHERE creator_id = $1 AND likes_count BETWEEN 1000 AND 5000",
            B,
        ),
        ru(
            "Сколько видео, опубликованных в ноябре 2025, собрали от 50 до 300 комментариев?",
            f"{VIDEOS} WHERE comments_count BETWEEN 50 AND 300 AND {NOV}",
        ),
    ],
)
"""A range of a counter: both ends included ("from 200 to 800", "between 10 and 50",
"от 200 до 800" are ``BETWEEN``)."""

NEGATION: Final = kind(
    "negation",
    [
        en("How many videos were not published in October 2025?", f"{VIDEOS} WHERE NOT {OCT}"),
        en(
            f"How many videos were uploaded by every creator except {A}?",
            f"{VIDEOS} WHERE creator_id <> $1",
            A,
        ),
        en("How many videos are without any comments?", f"{VIDEOS} WHERE comments_count = 0"),
        en("How many videos have at least one report?", f"{VIDEOS} WHERE reports_count >= 1"),
        en(
            f"How many videos of creator {B} have reports?",
            f"{VIDEOS} WHERE creator_id = $1 AND reports_count > 0",
            B,
        ),
        en(
            "How many videos having comments were published in November 2025?",
            f"{VIDEOS} WHERE comments_count > 0 AND {NOV}",
        ),
        en(
            "How many videos published in November 2025 did not get a single report?",
            f"{VIDEOS} WHERE reports_count = 0 AND {NOV}",
        ),
        ru("Сколько видео опубликовано не в октябре 2025?", f"{VIDEOS} WHERE NOT {OCT}"),
        ru(
            f"Сколько роликов выложили все авторы, помимо креатора {A}?",
            f"{VIDEOS} WHERE creator_id <> $1",
            A,
        ),
        ru("Сколько видео без комментариев?", f"{VIDEOS} WHERE comments_count = 0"),
        ru("Сколько видео с жалобами?", f"{VIDEOS} WHERE reports_count > 0"),
        ru(
            f"На сколько видео креатора {B} пожаловались хотя бы раз?",
            f"{VIDEOS} WHERE creator_id = $1 AND reports_count >= 1",
            B,
        ),
        ru(
            "Сколько роликов, кроме вышедших в ноябре 2025, набрали больше 100 000 просмотров?",
            f"{VIDEOS} WHERE views_count > 100000 AND NOT {NOV}",
        ),
        ru(f"Сколько видео не от креатора {B}?", f"{VIDEOS} WHERE creator_id <> $1", B),
    ],
)
"""Exclusion: "not in October" is every video outside it; "except creator X" / "помимо
креатора X" every other creator's videos; "without comments" / "без комментариев" is ``= 0``;
"with likes", "having comments", "с жалобами" ``> 0``; "at least one" ``>= 1``."""

BEFORE_AFTER: Final = kind(
    "before_after",
    [
        en(
            "How many videos were published after October 2025?",
            f"{VIDEOS} WHERE {DAY} >= '2025-11-01'",
        ),
        en(
            "How many videos came out before September 2025?",
            f"{VIDEOS} WHERE {DAY} < '2025-09-01'",
        ),
        en(
            "How many videos were published after November 15, 2025?",
            f"{VIDEOS} WHERE {DAY} > '2025-11-15'",
        ),
        en(
            "How many videos have been uploaded since November 20, 2025?",
            f"{VIDEOS} WHERE {DAY} >= '2025-11-20'",
        ),
        en("How many videos were published before 09:00?", f"{VIDEOS} WHERE {CLOCK} < '09:00'"),
        en("How many videos were posted after 6 pm?", f"{VIDEOS} WHERE {CLOCK} >= '18:00'"),
        en(
            f"How many videos did creator {A} publish before October 2025?",
            f"{VIDEOS} WHERE creator_id = $1 AND {DAY} < '2025-10-01'",
            A,
        ),
        ru("Сколько видео вышло после 15 ноября 2025?", f"{VIDEOS} WHERE {DAY} > '2025-11-15'"),
        ru("Сколько роликов опубликовано до октября 2025?", f"{VIDEOS} WHERE {DAY} < '2025-10-01'"),
        ru("Сколько видео выложено позже сентября 2025?", f"{VIDEOS} WHERE {DAY} >= '2025-10-01'"),
        ru("Сколько видео опубликовано раньше 9 утра?", f"{VIDEOS} WHERE {CLOCK} < '09:00'"),
        ru("Сколько видео вышло после 18:00 по UTC?", f"{VIDEOS} WHERE {CLOCK} >= '18:00'"),
        ru(
            "Сколько видео опубликовано начиная с 20 ноября 2025?",
            f"{VIDEOS} WHERE {DAY} >= '2025-11-20'",
        ),
        ru(
            f"Сколько роликов креатора {B} вышло после 1 октября 2025?",
            f"{VIDEOS} WHERE creator_id = $1 AND {DAY} > '2025-10-01'",
            B,
        ),
    ],
)
"""Open-ended periods: "after <day or month>" starts the day after it ends, "before" ends
when it starts (the day or month itself excluded), "since" / "начиная с" includes it. A
time of day is the UTC wall clock of the publication on any day: "before 09:00" is
``time < 09:00``, "after 18:00" is ``time >= 18:00`` (no video is published on the dot)."""

CALENDAR: Final = kind(
    "calendar",
    [
        en("How many videos were published on Fridays?", f"{VIDEOS} WHERE {DOW} = 5"),
        en("How many videos came out on weekends?", f"{VIDEOS} WHERE {DOW} IN (6, 7)"),
        en("How many videos were published on weekdays?", f"{VIDEOS} WHERE {DOW} BETWEEN 1 AND 5"),
        en(
            "How many videos were published on Saturdays in November 2025?",
            f"{VIDEOS} WHERE {DOW} = 6 AND {NOV}",
        ),
        en(
            "How many videos are uploaded between 8 and 10 in the morning?",
            f"{VIDEOS} WHERE {CLOCK} >= '08:00' AND {CLOCK} < '10:00'",
        ),
        en(
            f"How many videos did creator {A} publish on Mondays?",
            f"{VIDEOS} WHERE creator_id = $1 AND {DOW} = 1",
            A,
        ),
        en(
            "How many videos were published on Sundays in October 2025?",
            f"{VIDEOS} WHERE {DOW} = 7 AND {OCT}",
        ),
        ru("Сколько видео вышло по субботам?", f"{VIDEOS} WHERE {DOW} = 6"),
        ru("Сколько роликов опубликовано в выходные?", f"{VIDEOS} WHERE {DOW} IN (6, 7)"),
        ru("Сколько видео выкладывают в будни?", f"{VIDEOS} WHERE {DOW} BETWEEN 1 AND 5"),
        ru(
            "Сколько видео опубликовано по понедельникам в ноябре 2025?",
            f"{VIDEOS} WHERE {DOW} = 1 AND {NOV}",
        ),
        ru(
            "Сколько роликов выходит с 8 до 10 утра?",
            f"{VIDEOS} WHERE {CLOCK} >= '08:00' AND {CLOCK} < '10:00'",
        ),
        ru(
            f"Сколько видео креатора {B} вышло по воскресеньям?",
            f"{VIDEOS} WHERE creator_id = $1 AND {DOW} = 7",
            B,
        ),
        ru(
            "Сколько видео опубликовали по пятницам в октябре 2025?",
            f"{VIDEOS} WHERE {DOW} = 5 AND {OCT}",
        ),
    ],
)
"""Calendar parts of the publication time, in UTC: the weekday is ``extract(isodow)``
(Monday 1 .. Sunday 7), weekends are 6-7 and weekdays 1-5; an hour window on no day in
particular ("between 8 and 10 in the morning") is ``[08:00, 10:00)`` of the wall clock."""

SNAPSHOT_FACTS: Final = kind(
    "snapshot_facts",
    [
        en(
            "In how many snapshots did likes go down?", f"{SNAPSHOTS} WHERE s.delta_likes_count < 0"
        ),
        en(
            "How many snapshots recorded no growth at all?",
            f"{SNAPSHOTS} WHERE s.delta_views_count <= 0 AND s.delta_likes_count <= 0 AND s.delta_comments_count <= 0 AND s.delta_reports_count <= 0",
        ),
        en(
            "How many snapshots had zero view growth?", f"{SNAPSHOTS} WHERE s.delta_views_count = 0"
        ),
        en(
            "How many snapshots were taken on November 29, 2025 before 06:00?",
            f"{SNAPSHOTS} WHERE s.created_at >= '2025-11-29T00:00Z' AND s.created_at < '2025-11-29T06:00Z'",
        ),
        en(
            "How many snapshots with falling views were taken on November 30, 2025?",
            f"{SNAPSHOTS} WHERE s.delta_views_count < 0 AND {measured('2025-11-30', '2025-11-30')}",
        ),
        en(
            f"How many snapshots of creator {A}'s videos show a drop in likes?",
            f"{BY_CREATOR} s.delta_likes_count < 0",
            A,
        ),
        en(
            "How many snapshots show any comment growth?",
            f"{SNAPSHOTS} WHERE s.delta_comments_count > 0",
        ),
        ru("В скольких замерах упали лайки?", f"{SNAPSHOTS} WHERE s.delta_likes_count < 0"),
        ru(
            "Сколько замеров вообще без прироста?",
            f"{SNAPSHOTS} WHERE s.delta_views_count <= 0 AND s.delta_likes_count <= 0 AND s.delta_comments_count <= 0 AND s.delta_reports_count <= 0",
        ),
        ru(
            "Сколько снапшотов, где просмотры не изменились?",
            f"{SNAPSHOTS} WHERE s.delta_views_count = 0",
        ),
        ru(
            "Сколько замеров сделано 29 ноября 2025 до 6 утра?",
            f"{SNAPSHOTS} WHERE s.created_at >= '2025-11-29T00:00Z' AND s.created_at < '2025-11-29T06:00Z'",
        ),
        ru(
            "Сколько замеров 30 ноября 2025 показали снижение просмотров?",
            f"{SNAPSHOTS} WHERE s.delta_views_count < 0 AND {measured('2025-11-30', '2025-11-30')}",
        ),
        ru(
            f"Сколько замеров по роликам креатора {B} зафиксировали падение лайков?",
            f"{BY_CREATOR} s.delta_likes_count < 0",
            B,
        ),
        ru(
            "В скольких замерах прибавились комментарии?",
            f"{SNAPSHOTS} WHERE s.delta_comments_count > 0",
        ),
    ],
)
"""Counts of snapshots: "went down" / "упали" is a negative delta, "zero growth" / "не
изменились" a zero one, "no growth at all" / "вообще без прироста" no counter grew (every
delta ``<= 0``); "taken before 06:00 on <day>" is ``created_at`` in ``[day 00:00, 06:00)``
UTC."""

DISTINCT_DERIVED: Final = kind(
    "distinct_derived",
    [
        en(
            f"On how many different days did creator {A} publish?",
            f"SELECT count(DISTINCT {DAY}) FROM videos WHERE creator_id = $1",
            A,
        ),
        en(
            f"In how many distinct weeks did creator {B} upload videos?",
            f"SELECT count(DISTINCT {WEEK}) FROM videos WHERE creator_id = $1",
            B,
        ),
        en(
            "On how many days in October 2025 was at least one video published?",
            f"SELECT count(DISTINCT {DAY}) FROM videos WHERE {OCT}",
        ),
        en(
            "How many different creators published videos on weekends in October 2025?",
            f"SELECT count(DISTINCT creator_id) FROM videos WHERE {DOW} IN (6, 7) AND {OCT}",
        ),
        en(
            "In how many different months were videos published?",
            "SELECT count(DISTINCT date_trunc('month', video_created_at AT TIME ZONE 'UTC')) FROM videos",
        ),
        en(
            "In how many different weeks were videos published in October 2025?",
            f"SELECT count(DISTINCT {WEEK}) FROM videos WHERE {OCT}",
        ),
        ru(
            f"Сколько разных дней креатор {A} публиковал видео?",
            f"SELECT count(DISTINCT {DAY}) FROM videos WHERE creator_id = $1",
            A,
        ),
        ru(
            f"В течение скольких разных недель автор {B} выкладывал ролики?",
            f"SELECT count(DISTINCT {WEEK}) FROM videos WHERE creator_id = $1",
            B,
        ),
        ru(
            "Сколько дней в октябре 2025 выходило хотя бы одно видео?",
            f"SELECT count(DISTINCT {DAY}) FROM videos WHERE {OCT}",
        ),
        ru(
            "Сколько разных авторов выкладывали ролики по выходным в октябре 2025?",
            f"SELECT count(DISTINCT creator_id) FROM videos WHERE {DOW} IN (6, 7) AND {OCT}",
        ),
        ru(
            f"В какое количество разных дней креатор {B} выкладывал видео в ноябре 2025?",
            f"SELECT count(DISTINCT {DAY}) FROM videos WHERE creator_id = $1 AND {NOV}",
            B,
        ),
        ru(
            "Сколько разных недель октября 2025 года были с публикациями?",
            f"SELECT count(DISTINCT {WEEK}) FROM videos WHERE {OCT}",
        ),
    ],
)
"""Distinct values derived from the publication time: UTC days, ISO weeks (Monday to Sunday,
``date_trunc('week')``; a week counts when a video of the period falls in it), months."""

STATISTICS: Final = kind(
    "statistics",
    [
        en("What is the median number of views per video?", median("views_count")),
        en(
            "What is the 90th percentile of likes?",
            "SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY likes_count) FROM videos",
        ),
        en(
            "p90 of comments per video",
            "SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY comments_count) FROM videos",
        ),
        en(
            "What share of videos have over 50 comments?",
            share("comments_count > 50"),
            unit="percent",
        ),
        en(
            "What percentage of videos were published in November 2025?", share(NOV), unit="percent"
        ),
        en(
            f"What is the median like count of creator {A}'s videos?",
            median("likes_count", "FROM videos WHERE creator_id = $1"),
            A,
        ),
        en("What fraction of videos has no reports?", share("reports_count = 0"), unit="percent"),
        ru("Какова медиана просмотров у видео?", median("views_count")),
        ru(
            "Чему равен 90-й процентиль количества лайков?",
            "SELECT percentile_cont(0.9) WITHIN GROUP (ORDER BY likes_count) FROM videos",
        ),
        ru("Медианное число комментариев на ролик?", median("comments_count")),
        ru(
            "Какая доля видео набрала больше 50 комментариев?",
            share("comments_count > 50"),
            unit="percent",
        ),
        ru("Какой процент роликов вышел в ноябре 2025?", share(NOV), unit="percent"),
        ru(
            f"Медиана лайков у видео креатора {B}?",
            median("likes_count", "FROM videos WHERE creator_id = $1"),
            B,
        ),
        ru("Сколько процентов видео без жалоб?", share("reports_count = 0"), unit="percent"),
    ],
)
"""Statistics of a counter over videos: the median and percentiles are ``percentile_cont``
(linear interpolation; the median of an even count is the mean of the two middle values); a
share is the percent of the videos meeting the condition, rounded to 1 decimal (a fraction
such as 0.887, or a percent within 0.05 points, is accepted)."""

SUPERLATIVE_SUBJECT: Final = kind(
    "superlative_subject",
    [
        en(
            "How many views does the most commented video of October 2025 have?",
            f"SELECT views_count FROM videos WHERE {OCT} ORDER BY comments_count DESC, id LIMIT 1",
        ),
        en(
            "How many likes does the least viewed video have?",
            "SELECT likes_count FROM videos ORDER BY views_count, id LIMIT 1",
        ),
        en(
            f"How many views does creator {A}'s most commented video have?",
            "SELECT views_count FROM videos WHERE creator_id = $1 ORDER BY comments_count DESC, id LIMIT 1",
            A,
        ),
        en(
            "How many reports does the most viewed video published in October 2025 have?",
            f"SELECT reports_count FROM videos WHERE {OCT} ORDER BY views_count DESC, id LIMIT 1",
        ),
        en(
            "How many likes does the video that gained the most views on November 28, 2025 have?",
            f"SELECT v.likes_count FROM videos v JOIN (SELECT s.video_id, sum(s.delta_views_count) AS gained FROM video_snapshots s WHERE {measured('2025-11-28', '2025-11-28')} GROUP BY 1) g ON g.video_id = v.id ORDER BY g.gained DESC, v.id LIMIT 1",
        ),
        en(
            "How many videos does the creator of the most viewed video have?",
            f"{VIDEOS} WHERE creator_id = (SELECT creator_id FROM videos ORDER BY views_count DESC, id LIMIT 1)",
        ),
        en(
            "How many comments does the video with the fewest likes have?",
            "SELECT comments_count FROM videos ORDER BY likes_count, id LIMIT 1",
        ),
        ru(
            "Сколько просмотров у самого комментируемого видео, вышедшего в октябре 2025?",
            f"SELECT views_count FROM videos WHERE {OCT} ORDER BY comments_count DESC, id LIMIT 1",
        ),
        ru(
            "Сколько лайков у ролика с наименьшим числом просмотров?",
            "SELECT likes_count FROM videos ORDER BY views_count, id LIMIT 1",
        ),
        ru(
            f"Сколько просмотров у самого обсуждаемого ролика креатора {A}?",
            "SELECT views_count FROM videos WHERE creator_id = $1 ORDER BY comments_count DESC, id LIMIT 1",
            A,
        ),
        ru(
            "Сколько жалоб у самого просматриваемого видео, опубликованного в октябре 2025?",
            f"SELECT reports_count FROM videos WHERE {OCT} ORDER BY views_count DESC, id LIMIT 1",
        ),
        ru(
            "Сколько лайков у видео, которое больше всех прибавило в просмотрах 28 ноября 2025?",
            f"SELECT v.likes_count FROM videos v JOIN (SELECT s.video_id, sum(s.delta_views_count) AS gained FROM video_snapshots s WHERE {measured('2025-11-28', '2025-11-28')} GROUP BY 1) g ON g.video_id = v.id ORDER BY g.gained DESC, v.id LIMIT 1",
        ),
        ru(
            "Сколько видео у автора самого просматриваемого ролика?",
            f"{VIDEOS} WHERE creator_id = (SELECT creator_id FROM videos ORDER BY views_count DESC, id LIMIT 1)",
        ),
        ru(
            "Сколько комментариев у видео, набравшего меньше всех лайков?",
            "SELECT comments_count FROM videos ORDER BY likes_count, id LIMIT 1",
        ),
    ],
)
"""A counter (or the video count) of the one video (or its creator) picked by a superlative on
another counter: "the most liked video" is the video with the highest final like count, "the
video that gained the most views on <day>" the highest sum of that day's deltas. The question
asks for the subject's value, not for the maximum of the counter asked about."""

EXISTENTIAL: Final = kind(
    "existential",
    [
        en(
            "How many creators have a video with more than 50,000 likes?",
            "SELECT count(DISTINCT creator_id) FROM videos WHERE likes_count > 50000",
        ),
        en(
            "How many creators have no video over 300,000 views?",
            creators_having("max(views_count) <= 300000"),
        ),
        en(
            "How many creators have at least one video without comments?",
            "SELECT count(DISTINCT creator_id) FROM videos WHERE comments_count = 0",
        ),
        en(
            "How many creators published a video in November 2025 that has more than 100k views?",
            f"SELECT count(DISTINCT creator_id) FROM videos WHERE views_count > 100000 AND {NOV}",
        ),
        en(
            "How many creators have all of their videos above 1,000 views?",
            creators_having("min(views_count) > 1000"),
        ),
        en(
            "How many creators have a video published on a Friday in November 2025?",
            f"SELECT count(DISTINCT creator_id) FROM videos WHERE {DOW} = 5 AND {NOV}",
        ),
        ru(
            "У скольких креаторов есть ролик, набравший больше 50 000 лайков?",
            "SELECT count(DISTINCT creator_id) FROM videos WHERE likes_count > 50000",
        ),
        ru(
            "Сколько авторов, у которых ни одно видео не набрало больше 300 тысяч просмотров?",
            creators_having("max(views_count) <= 300000"),
        ),
        ru(
            "У скольких блогеров есть хотя бы одно видео без жалоб?",
            "SELECT count(DISTINCT creator_id) FROM videos WHERE reports_count = 0",
        ),
        ru(
            "Сколько креаторов, у которых все ролики набрали больше 1000 просмотров?",
            creators_having("min(views_count) > 1000"),
        ),
        ru(
            "У скольких авторов есть видео, вышедшее в ноябре 2025 и набравшее более 100 тыс. просмотров?",
            f"SELECT count(DISTINCT creator_id) FROM videos WHERE views_count > 100000 AND {NOV}",
        ),
        ru(
            "У скольких креаторов есть хотя бы один ролик, вышедший на выходных в сентябре 2025?",
            f"SELECT count(DISTINCT creator_id) FROM videos WHERE {DOW} IN (6, 7) AND {published('2025-09-01', '2025-09-30')}",
        ),
    ],
)
"""Creators counted by their videos: "has a video with X" is at least one such video; "no
video over N" is every video at most N (``max <= N``); "all videos above N" is ``min > N``."""

MODIFIER: Final = kind(
    "modifier",
    [
        en("What is the median like count?", median("likes_count")),
        en("How many trending videos were published in November 2025?", None),
        en(f"How many popular videos does creator {A} have?", None),
        en(
            "How many videos were published on Mondays in November 2025?",
            f"{VIDEOS} WHERE {DOW} = 1 AND {NOV}",
        ),
        en(
            "How many likes did videos gain on weekdays between November 26 and 30, 2025?",
            f"SELECT coalesce(sum(s.delta_likes_count), 0) FROM video_snapshots s WHERE extract(isodow FROM s.created_at AT TIME ZONE 'UTC') BETWEEN 1 AND 5 AND {measured('2025-11-26', '2025-11-30')}",
        ),
        en(
            "What was the median view growth per snapshot on November 28, 2025?",
            median(
                "s.delta_views_count",
                f"FROM video_snapshots s WHERE {measured('2025-11-28', '2025-11-28')}",
            ),
        ),
        en("How many viral videos are there?", None),
        ru("Какое медианное количество лайков у видео?", median("likes_count")),
        ru("Сколько вирусных видео вышло в ноябре 2025?", None),
        ru(f"Сколько популярных роликов у креатора {A}?", None),
        ru(
            "Сколько видео опубликовано в выходные в ноябре 2025?",
            f"{VIDEOS} WHERE {DOW} IN (6, 7) AND {NOV}",
        ),
        ru(
            "На сколько выросли лайки в будние дни с 26 по 30 ноября 2025?",
            f"SELECT coalesce(sum(s.delta_likes_count), 0) FROM video_snapshots s WHERE extract(isodow FROM s.created_at AT TIME ZONE 'UTC') BETWEEN 1 AND 5 AND {measured('2025-11-26', '2025-11-30')}",
        ),
        ru(
            "Медианный прирост просмотров за замер 28 ноября 2025?",
            median(
                "s.delta_views_count",
                f"FROM video_snapshots s WHERE {measured('2025-11-28', '2025-11-28')}",
            ),
        ),
        ru("Сколько залетевших роликов?", None),
    ],
)
"""Words that change the answer and must not be dropped: an adjective with no definition in
the data ("trending", "popular", "viral", "вирусных", "залетевших": refused), "median"
instead of a total or an average, a weekday filter on a period (weekdays of the snapshot
time, for growth)."""

VAGUE: Final = kind(
    "vague",
    [
        en("How many videos have plenty of likes?", None),
        en("What is the total watch time of all videos?", None),
        en("How many views did videos gain on November 20, 2025?", None),
        en("How many likes did videos gain in October 2025?", None),
        en(f"How many subscribers does creator {A} have?", None),
        en("How many shares did the videos get?", None),
        en("How many videos did well last month?", None),
        ru("Сколько видео с кучей лайков?", None),
        ru("Какое общее время просмотра всех роликов?", None),
        ru("На сколько выросли просмотры 20 ноября 2025?", None),
        ru("Сколько лайков прибавилось в октябре 2025?", None),
        ru(f"Сколько подписчиков у креатора {A}?", None),
        ru("Сколько репостов у видео?", None),
        ru("Сколько роликов хорошо зашли в прошлом месяце?", None),
    ],
)
"""No single right number: a vague amount ("plenty", "кучей", "did well"), data the tables do
not hold (watch time, subscribers, shares), or growth on days the snapshots do not cover
(they start on 26 Nov 2025; a sum of no deltas is not zero growth). Must be refused or asked
back."""

CONTROL: Final = kind(
    "control",
    [
        en("How many videos are there in total?", VIDEOS),
        en(f"How many videos has creator {B} posted?", f"{VIDEOS} WHERE creator_id = $1", B),
        en("Total likes across all videos?", "SELECT coalesce(sum(likes_count), 0) FROM videos"),
        en("How many videos have more than 50,000 views?", f"{VIDEOS} WHERE views_count > 50000"),
        en(
            "What was the total view growth on November 29, 2025?",
            f"SELECT coalesce(sum(s.delta_views_count), 0) FROM video_snapshots s WHERE {measured('2025-11-29', '2025-11-29')}",
        ),
        en("How many creators are there?", "SELECT count(DISTINCT creator_id) FROM videos"),
        ru("Сколько всего роликов?", VIDEOS),
        ru(f"Сколько видео выложил креатор {B}?", f"{VIDEOS} WHERE creator_id = $1", B),
        ru(
            "Сколько всего лайков у всех роликов?",
            "SELECT coalesce(sum(likes_count), 0) FROM videos",
        ),
        ru(
            "Сколько видео набрали больше 50 тысяч просмотров?",
            f"{VIDEOS} WHERE views_count > 50000",
        ),
        ru(
            "Суммарный прирост просмотров 29 ноября 2025?",
            f"SELECT coalesce(sum(s.delta_views_count), 0) FROM video_snapshots s WHERE {measured('2025-11-29', '2025-11-29')}",
        ),
        ru("Сколько всего авторов?", "SELECT count(DISTINCT creator_id) FROM videos"),
    ],
)
"""Plain questions of the kinds the parser already answers: a control that the set's harness
and the parser agree where nothing new is asked."""

HELDOUT: Final = [
    *COUNTER_VS_COUNTER,
    *RANGE,
    *NEGATION,
    *BEFORE_AFTER,
    *CALENDAR,
    *SNAPSHOT_FACTS,
    *DISTINCT_DERIVED,
    *STATISTICS,
    *SUPERLATIVE_SUBJECT,
    *EXISTENTIAL,
    *MODIFIER,
    *VAGUE,
    *CONTROL,
]
"""Every held-out question, in kind order."""

KINDS: Final = tuple(dict.fromkeys(case.kind for case in HELDOUT))
"""The kinds, in the order of the set."""
