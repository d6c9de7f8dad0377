"""Generate Tally's sample data set: ``data/videos.json.gz``, shaped like seed 000's export.

The file is ``{"videos": [video, ...]}``; each video carries its final counters and its hourly
``snapshots`` (counters at that hour and ``delta_*`` = gain since the previous hour, negative
when a counter fell). Everything is drawn from one ``random.Random(SEED)`` and gzip is written
with ``mtime=0``, so two runs give identical bytes.

Run from the repository root:  ``uv run python scripts/generate_sample.py [OUTPUT]``
"""

import gzip
import json
import math
import random
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

SEED = 20251130
CREATORS = 20
VIDEOS = 300
OUTPUT = Path(__file__).resolve().parent.parent / "data" / "videos.json.gz"

FIRST_SNAPSHOT = datetime(2025, 11, 26, tzinfo=UTC)
"""Snapshots are taken every hour from here through ``LAST_SNAPSHOT`` inclusive (UTC)."""
LAST_SNAPSHOT = datetime(2025, 11, 30, 23, tzinfo=UTC)

PUBLISH_MONTHS = ((8, 31, 0.15), (9, 30, 0.20), (10, 31, 0.25), (11, 30, 0.40))
"""(month of 2025, days in it, share of videos published in it)."""
EARLY_NOVEMBER_SHARE = 0.08
"""Extra share published 1-5 November 2025, so creator-and-date questions have answers."""
LATE_SHARE = 0.01
"""Share published after the last snapshot hour: videos with no snapshots at all."""

COUNTERS = ("views_count", "likes_count", "comments_count", "reports_count")


@dataclass
class Video:
    """One generated video: identity, publication time, popularity and current counters."""

    id: str
    creator_id: str
    published_at: datetime
    popularity: float
    rates: tuple[float, float, float]
    counters: dict[str, int]


def iso(moment: datetime) -> str:
    """ISO-8601 with an explicit ``+00:00`` offset."""
    return moment.astimezone(UTC).isoformat()


def hex32(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def publication_time(rng: random.Random) -> datetime:
    """A publication instant in Aug-Nov 2025 (UTC), weighted per ``PUBLISH_MONTHS``."""
    roll = rng.random()
    if roll < LATE_SHARE:
        return LAST_SNAPSHOT + timedelta(seconds=rng.randrange(1, 3600))
    if roll < LATE_SHARE + EARLY_NOVEMBER_SHARE:
        day, month = rng.randint(1, 5), 11
    else:
        month, days, _ = rng.choices(PUBLISH_MONTHS, weights=[m[2] for m in PUBLISH_MONTHS])[0]
        day = rng.randint(1, days)
    seconds = rng.randrange(24 * 3600)
    return datetime(2025, month, day, tzinfo=UTC) + timedelta(seconds=seconds)


def make_video(rng: random.Random, creators: list[str]) -> Video:
    """A video with a log-normal popularity and per-view like/comment/report rates."""
    return Video(
        id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        creator_id=rng.choice(creators),
        published_at=publication_time(rng),
        popularity=rng.lognormvariate(4.4, 1.3),
        rates=(rng.uniform(0.02, 0.09), rng.uniform(0.002, 0.012), rng.uniform(0.0, 0.0008)),
        counters=dict.fromkeys(COUNTERS, 0),
    )


def hourly_views(video: Video, at: datetime) -> float:
    """Expected views gained in the hour ending at ``at``: popularity decaying with age."""
    age_h = max((at - video.published_at).total_seconds() / 3600, 0.0)
    return video.popularity * 6.0 / math.sqrt(1.0 + age_h / 6.0)


def backlog(video: Video, until: datetime) -> dict[str, int]:
    """Counters accumulated from publication to ``until`` (the hours before any snapshot)."""
    hours = int((until - video.published_at).total_seconds() // 3600)
    start = video.published_at
    views = int(sum(hourly_views(video, start + timedelta(hours=h)) for h in range(hours)))
    likes, comments, reports = (int(views * rate) for rate in video.rates)
    return dict(zip(COUNTERS, (views, likes, comments, reports), strict=True))


def hour_delta(rng: random.Random, video: Video, at: datetime) -> dict[str, int]:
    """Gains over one hour: about 12 % flat hours, about 2 % where views and likes fall."""
    roll = rng.random()
    if roll < 0.12:
        return dict.fromkeys(COUNTERS, 0)
    if roll < 0.14:
        views = -min(video.counters["views_count"], rng.randint(1, 40))
        likes = -min(video.counters["likes_count"], rng.randint(0, 5))
        return {"views_count": views, "likes_count": likes, "comments_count": 0, "reports_count": 0}
    views = max(0, round(rng.gauss(hourly_views(video, at), hourly_views(video, at) * 0.3 + 1)))
    likes, comments, reports = (round(views * rate * rng.uniform(0.5, 1.5)) for rate in video.rates)
    return dict(zip(COUNTERS, (views, likes, comments, reports), strict=True))


def snapshot(rng: random.Random, video: Video, at: datetime) -> dict[str, Any]:
    """The snapshot of ``video`` at hour ``at``; updates the video's counters."""
    delta = hour_delta(rng, video, at)
    video.counters = {name: video.counters[name] + delta[name] for name in COUNTERS}
    return {
        "id": hex32(rng),
        "video_id": video.id,
        **video.counters,
        **{f"delta_{name}": delta[name] for name in COUNTERS},
        "created_at": iso(at),
        "updated_at": iso(at),
    }


def snapshot_hours() -> list[datetime]:
    count = int((LAST_SNAPSHOT - FIRST_SNAPSHOT).total_seconds() // 3600) + 1
    return [FIRST_SNAPSHOT + timedelta(hours=h) for h in range(count)]


def video_document(rng: random.Random, video: Video) -> dict[str, Any]:
    """The exported video: its snapshots, and final counters equal to the last snapshot's."""
    hours = [at for at in snapshot_hours() if video.published_at < at]
    if hours:
        video.counters = backlog(video, hours[0] - timedelta(hours=1))
    snapshots = [snapshot(rng, video, at) for at in hours]
    if not snapshots:
        fresh = (rng.randint(0, 50), rng.randint(0, 5), 0, 0)
        video.counters = dict(zip(COUNTERS, fresh, strict=True))
    updated = snapshots[-1]["created_at"] if snapshots else iso(video.published_at)
    return {
        "id": video.id,
        "creator_id": video.creator_id,
        "video_created_at": iso(video.published_at),
        **video.counters,
        "created_at": iso(video.published_at),
        "updated_at": updated,
        "snapshots": snapshots,
    }


def generate(seed: int = SEED) -> dict[str, Any]:
    """The whole data set as a JSON-ready dict, videos ordered by publication time."""
    rng = random.Random(seed)
    creators = [hex32(rng) for _ in range(CREATORS)]
    videos = [make_video(rng, creators) for _ in range(VIDEOS)]
    videos.sort(key=lambda video: video.published_at)
    return {"videos": [video_document(rng, video) for video in videos]}


def write(document: dict[str, Any], output: Path) -> None:
    """Write ``document`` as gzip'd JSON with no timestamp or file name in the gzip header."""
    output.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(document, ensure_ascii=False).encode()
    with output.open("wb") as raw, gzip.GzipFile("", "wb", 9, raw, mtime=0) as compressed:
        compressed.write(payload)


def main() -> None:
    output = Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT
    document = generate()
    write(document, output)
    videos = document["videos"]
    snapshots = sum(len(video["snapshots"]) for video in videos)
    creators = len({video["creator_id"] for video in videos})
    size = output.stat().st_size
    print(
        f"{output}: {len(videos)} videos by {creators} creators, "
        f"{snapshots} snapshots, {size} bytes"
    )


if __name__ == "__main__":
    main()
