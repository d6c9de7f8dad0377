"""The semantic layer: the typed query plan (:mod:`.plan`), its SQL compiler
(:mod:`.compiler`, SQLAlchemy Core with bound parameters) and the reading of a one-number
result (:mod:`.results`), all over one declarative catalog of what can be asked,
``catalog.yaml`` beside this file, loaded and checked once per process by :func:`catalog`.

It holds

- ``datasets``: the tables a plan may name (``videos``, one row per video with its final
  counters; ``video_snapshots``, one row per video per hour with counters and deltas), each
  with its grain, its columns by kind (``id`` of an entity, ``counter``, ``delta``, ``time``
  with its meaning) and its joins (``video_snapshots.video_id -> videos.id`` brings the
  video's ``creator_id`` and ``video_created_at``);
- ``measures``: each aggregate with what it takes (``count`` of rows, ``count_distinct`` of
  ids, ``sum``/``avg``/``min``/``max`` of counters and deltas);
- ``dimensions``: what a grouped plan has one row per (video, creator, day, hour);
- ``counters``, ``entities`` and ``concepts`` (growth, decline, published), with the names
  replies use and, under ``synonyms``, the English words and Russian lemmas questions use.

Everything else derives from it: :data:`tally.semantic.plan.CATALOG` and ``TIME_COLUMNS``,
the LLM prompt's catalog, the built-in parser's key words (``lexicon``, ``vocabulary``) and
the names in interpretations (``describe``).

To extend it, edit the YAML. A synonym: add the English word or Russian lemma to its term
under ``synonyms`` (a word may belong to one term only). A dataset (issue 4 adds the chat
tables): add it under ``datasets`` with its columns and joins, its table to
:mod:`tally.infra.db.models`, its name to :class:`tally.semantic.plan.Dataset` and any new
plannable column to ``plan.Column``; new counters and entities go under ``counters`` and
``entities`` with their names and one ``synonyms`` entry each. The tests check all of these
agree.
"""

from functools import cache
from importlib import resources

import yaml
from pydantic import ValidationError

from tally.infra.errors import ConfigurationError
from tally.semantic.models import (
    Column,
    Dataset,
    Dimension,
    Join,
    Kind,
    Names,
    SemanticCatalog,
    Synonym,
)

__all__ = [
    "CatalogError",
    "Column",
    "Dataset",
    "Dimension",
    "Join",
    "Kind",
    "Names",
    "SemanticCatalog",
    "Synonym",
    "catalog",
    "load",
]


class CatalogError(ConfigurationError):
    """The semantic catalog is not valid YAML or does not hold together."""


def load(text: str) -> SemanticCatalog:
    """The catalog written in ``text`` (YAML). Raises :class:`CatalogError` saying what is
    wrong: bad YAML, a missing field, a name referring to nothing, a word of two terms."""
    try:
        return SemanticCatalog.model_validate(yaml.safe_load(text))
    except yaml.YAMLError as error:
        raise CatalogError(f"invalid semantic catalog: {error}") from error
    except ValidationError as error:
        raise CatalogError(f"invalid semantic catalog: {_problems(error)}") from error


def _problems(error: ValidationError) -> str:
    """``"datasets.videos.columns.id.kind: Input should be 'id', ...; Value error, ..."``."""
    return "; ".join(
        ": ".join(filter(None, (".".join(map(str, problem["loc"])), problem["msg"])))
        for problem in error.errors(include_url=False)
    )


@cache
def catalog() -> SemanticCatalog:
    """Tally's catalog, read from the package's ``catalog.yaml`` on first use."""
    return load(resources.files(__package__).joinpath("catalog.yaml").read_text("utf-8"))
