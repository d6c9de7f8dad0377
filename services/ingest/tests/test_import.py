"""`tally import-videos` through the real ingest service, on real NATS and PostgreSQL."""

import gzip
import json
from pathlib import Path
from typing import Any
from uuid import uuid4

import nats
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.cli.importer import ImportTimeoutError, import_videos
from tally.contracts.streams import delete_streams
from tally.contracts.subjects import Subjects
from tally.infra.settings import CommonSettings

SAMPLE = Path(__file__).resolve().parents[3] / "data" / "videos.json.gz"
COUNTERS = ("views_count", "likes_count", "comments_count", "reports_count")

pytestmark = pytest.mark.usefixtures("ingest", "clean_videos")


def sample() -> list[dict[str, Any]]:
    with gzip.open(SAMPLE) as stream:
        videos: list[dict[str, Any]] = json.load(stream)["videos"]
    return videos


async def scalar(db: AsyncEngine, sql: str) -> Any:
    async with db.connect() as connection:
        return (await connection.execute(text(sql))).scalar_one()


async def fingerprint(db: AsyncEngine) -> tuple[str, str]:
    """md5 of every video row and every snapshot row, in id order."""
    videos = "SELECT md5(string_agg(v::text, '|' ORDER BY v.id)) FROM videos v"
    snapshots = "SELECT md5(string_agg(s::text, '|' ORDER BY s.id)) FROM video_snapshots s"
    return await scalar(db, videos), await scalar(db, snapshots)


def video(number: int, *, snapshots: int = 2) -> dict[str, Any]:
    """A valid video with ``snapshots`` valid hourly snapshots."""
    video_id = str(uuid4())
    stamp = "2025-11-26T00:00:00+00:00"
    counters = dict.fromkeys(COUNTERS, number)
    deltas = {f"delta_{name}": 0 for name in COUNTERS}
    rows = [
        {"id": uuid4().hex, "video_id": video_id, **counters, **deltas}
        | {"created_at": stamp, "updated_at": stamp}
        for _ in range(snapshots)
    ]
    return {"id": video_id, "creator_id": "c" * 32, "video_created_at": stamp, **counters} | {
        "created_at": stamp,
        "updated_at": stamp,
        "snapshots": rows,
    }


async def test_sample_import_stores_exactly_the_file(
    settings: CommonSettings, db: AsyncEngine
) -> None:
    """Every video and snapshot of the sample is stored once, with the file's counters."""
    videos = sample()
    snapshots = [snap for item in videos for snap in item["snapshots"]]

    report = await import_videos(SAMPLE, settings)

    assert (report.videos, report.snapshots, report.skipped) == (len(videos), len(snapshots), [])
    assert await scalar(db, "SELECT count(*) FROM videos") == len(videos)
    assert await scalar(db, "SELECT count(*) FROM video_snapshots") == len(snapshots)
    assert await scalar(db, "SELECT sum(views_count) FROM videos") == sum(
        v["views_count"] for v in videos
    )
    assert await scalar(db, "SELECT sum(likes_count) FROM videos") == sum(
        v["likes_count"] for v in videos
    )
    delta = "SELECT sum(delta_views_count) FROM video_snapshots"
    assert await scalar(db, delta) == sum(s["delta_views_count"] for s in snapshots)
    creators = "SELECT count(DISTINCT creator_id) FROM videos"
    assert await scalar(db, creators) == len({v["creator_id"] for v in videos})


async def test_importing_twice_leaves_identical_rows(
    settings: CommonSettings, db: AsyncEngine
) -> None:
    """A second import of the same file upserts every row again and changes none."""
    first = await import_videos(SAMPLE, settings, batch_rows=5000)
    before = await fingerprint(db)

    second = await import_videos(SAMPLE, settings, batch_rows=5000)

    assert await fingerprint(db) == before
    assert (second.videos, second.snapshots) == (first.videos, first.snapshots)
    assert second.duplicates == 0
    assert second.batches == first.batches


async def test_malformed_records_are_reported_and_skipped(
    settings: CommonSettings, db: AsyncEngine, tmp_path: Path
) -> None:
    """A bad snapshot and a bad video are reported by position; everything else is stored."""
    videos = [video(1), video(2), video(3)]
    videos[0]["snapshots"][1]["views_count"] = "lots"
    del videos[2]["creator_id"]
    path = tmp_path / "videos.json"
    path.write_text(json.dumps({"videos": videos}))

    report = await import_videos(path, settings)

    assert len(report.skipped) == 2
    assert report.skipped[0].startswith("videos[0].snapshots[1]: views_count:")
    assert report.skipped[1].startswith("videos[2]: creator_id:")
    assert (report.videos, report.snapshots) == (2, 3)
    assert await scalar(db, "SELECT count(*) FROM videos") == 2
    assert await scalar(db, "SELECT count(*) FROM video_snapshots") == 3


async def test_truncated_file_reports_the_offset_and_keeps_what_came_before(
    settings: CommonSettings, db: AsyncEngine, tmp_path: Path
) -> None:
    """A file cut short stops reading at its end; the complete videos before it are stored."""
    content = json.dumps({"videos": [video(1), video(2), video(3)]}).encode()
    cut = content.rindex(b'"creator_id"')
    path = tmp_path / "videos.json.gz"
    path.write_bytes(gzip.compress(content[:cut]))

    report = await import_videos(path, settings, batch_rows=2)

    assert report.stopped_at == cut
    assert report.skipped[-1].startswith(f"byte {cut}: JSON syntax error")
    assert (report.videos, report.snapshots) == (2, 4)
    assert await scalar(db, "SELECT count(*) FROM videos") == 2
    assert await scalar(db, "SELECT count(*) FROM video_snapshots") == 4


async def test_import_without_ingest_times_out_with_a_clear_error(
    settings: CommonSettings, tmp_path: Path
) -> None:
    """With no ingest consuming, the import fails after the timeout and names the cause."""
    lonely = settings.model_copy(update={"subject_prefix": f"{settings.subject_prefix}x"})
    path = tmp_path / "videos.json"
    path.write_text(json.dumps({"videos": [video(1)]}))
    try:
        with pytest.raises(ImportTimeoutError, match="Is the ingest service running"):
            await import_videos(path, lonely, timeout_s=1)
    finally:
        connection = await nats.connect(settings.nats_url)
        await delete_streams(connection.jetstream(), Subjects(lonely.subject_prefix))
        await connection.close()
