"""The semantic catalog holds together, matches the database models and the plan's types,
and a broken one is refused with a message that says what is wrong."""

from collections.abc import Callable
from datetime import datetime
from importlib import resources
from typing import Any, get_args
from uuid import UUID

import pytest
import yaml

from tally.infra.db.models import Base
from tally.semantic import CatalogError, Kind, catalog, load
from tally.semantic.plan import PLANNABLE, Aggregate, Column, Dataset, Dimension, TimeColumn

PYTHON_TYPES: dict[Kind, tuple[type, ...]] = {
    "id": (UUID, str, int),
    "number": (int,),
    "category": (str,),
    "counter": (int,),
    "delta": (int,),
    "time": (datetime,),
}


def test_catalog_loads_once() -> None:
    """The packaged YAML validates, and is read once per process."""
    assert catalog() is catalog()
    assert set(catalog().datasets) == {"videos", "video_snapshots", "messages", "member_events"}


@pytest.mark.parametrize("dataset", list(Dataset))
def test_columns_exist_in_the_models_with_their_kind(dataset: Dataset) -> None:
    """Each column of a dataset is a column of its table, of a type that fits its kind;
    time columns are ``timestamptz``."""
    about = catalog().datasets[dataset]
    table = Base.metadata.tables[about.table]
    for name, column in about.columns.items():
        model = table.columns[name]
        assert model.type.python_type in PYTHON_TYPES[column.kind], name
        if column.kind == "time":
            assert getattr(model.type, "timezone", False), name


def test_plan_types_match_the_catalog() -> None:
    """The plan's Literal columns, datasets, aggregates and dimensions are the catalog's."""
    semantic = catalog()
    plannable = {name for dataset in Dataset for name in semantic.column_names(dataset, *PLANNABLE)}
    times = {name for dataset in Dataset for name in semantic.column_names(dataset, "time")}
    assert set(get_args(Column)) == plannable
    assert set(get_args(TimeColumn)) == times
    assert {dataset.value for dataset in Dataset} == set(semantic.datasets)
    assert {aggregate.value for aggregate in Aggregate} == set(semantic.measures)
    assert {dimension.value for dimension in Dimension} == set(semantic.dimensions)
    assert {d for d in Dimension if d.is_time} == {
        d for d in Dimension if semantic.dimensions[d].bucket
    }


def test_snapshots_join_videos_for_creator_and_publication_time() -> None:
    """A snapshot's creator and publication time come from its video through the join."""
    semantic = catalog()
    joined = semantic.joined_columns(Dataset.SNAPSHOTS)
    assert set(joined) == {"creator_id", "video_created_at"}
    assert {join.pair for join in joined.values()} == {("video_id", "id")}
    assert semantic.joined_columns(Dataset.VIDEOS) == {}
    assert semantic.entity_column(Dataset.SNAPSHOTS, "video") == "video_id"
    assert semantic.entity_column(Dataset.SNAPSHOTS, "creator") == "creator_id"
    assert semantic.entity_column(Dataset.VIDEOS, "video") == "id"
    with pytest.raises(KeyError):
        semantic.entity_column(Dataset.VIDEOS, "snapshot")


def _raw() -> dict[str, Any]:
    text = resources.files("tally.semantic").joinpath("catalog.yaml").read_text("utf-8")
    raw: dict[str, Any] = yaml.safe_load(text)
    return raw


def _unknown_join_column(raw: dict[str, Any]) -> None:
    raw["datasets"]["video_snapshots"]["joins"][0]["columns"].append("nope")


def _join_to_nowhere(raw: dict[str, Any]) -> None:
    raw["datasets"]["video_snapshots"]["joins"][0]["dataset"] = "chats"


def _join_bringing_own_column(raw: dict[str, Any]) -> None:
    raw["datasets"]["video_snapshots"]["joins"][0]["columns"].append("views_count")


def _bad_join_key(raw: dict[str, Any]) -> None:
    raw["datasets"]["video_snapshots"]["joins"][0]["key"] = {"video": "id"}


def _word_of_two_terms(raw: dict[str, Any]) -> None:
    raw["synonyms"]["likes"]["en"].append("views")


def _lemma_of_two_terms(raw: dict[str, Any]) -> None:
    raw["synonyms"]["growth"]["ru"].append("просмотр")


def _unknown_entity(raw: dict[str, Any]) -> None:
    raw["datasets"]["videos"]["columns"]["creator_id"]["entity"] = "channel"


def _counter_without_words(raw: dict[str, Any]) -> None:
    del raw["synonyms"]["likes"]


def _unknown_kind(raw: dict[str, Any]) -> None:
    raw["datasets"]["videos"]["columns"]["id"]["kind"] = "uuid"


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (_unknown_join_column, "join of video_snapshots to videos: column 'nope' is not in videos"),
        (_join_to_nowhere, "join of video_snapshots to chats: no such other dataset"),
        (_join_bringing_own_column, "column 'views_count' is already in video_snapshots"),
        (_bad_join_key, "on video = id names a column neither has"),
        (_word_of_two_terms, "en word 'views' is a synonym of 'views' and 'likes'"),
        (_lemma_of_two_terms, "ru word 'просмотр' is a synonym of 'views' and 'growth'"),
        (_unknown_entity, "videos.creator_id: unknown entity 'channel'"),
        (_counter_without_words, "counter 'likes' needs one entry under synonyms: []"),
        (_unknown_kind, "datasets.videos.columns.id.kind"),
    ],
)
def test_broken_catalog_is_refused(
    breakage: Callable[[dict[str, Any]], None], message: str
) -> None:
    """A join to an unknown column or dataset, a word given to two terms, a reference to
    nothing: :class:`CatalogError` names the culprit."""
    raw = _raw()
    breakage(raw)
    with pytest.raises(CatalogError, match="invalid semantic catalog") as error:
        load(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    assert message in str(error.value)


def test_invalid_yaml_is_refused() -> None:
    """Text that is not YAML is a :class:`CatalogError` too, not a parser's exception."""
    with pytest.raises(CatalogError):
        load("datasets: [unclosed")
