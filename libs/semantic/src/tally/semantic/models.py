"""The catalog's shape, as pydantic models that check it whole: every name a column,
join, dimension or synonym refers to exists, and no word means two things."""

from collections.abc import Collection, Iterator
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

Kind = Literal["id", "counter", "delta", "number", "category", "time"]
"""What a column holds: an entity's id, a counter, a counter's hourly change, a quantity of
the row, one of a few values, a UTC time."""
Bucket = Literal["day", "hour"]
Section = Literal["counter", "entity", "concept"]
"""What a synonym names."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class EnglishNames(_Model):
    singular: str
    plural: str


class RussianNames(_Model):
    singular: str
    plural: str
    """Nominative plural: "просмотры"."""
    plural_genitive: str
    """Genitive plural, the form after numbers and "сколько": "просмотров"."""


class Names(_Model):
    """How a counter or an entity is written in a reply."""

    en: EnglishNames
    ru: RussianNames


class Column(_Model):
    """A column of a dataset: an id names its ``entity``, a counter or delta its ``counter``."""

    kind: Kind
    entity: str | None = None
    counter: str | None = None
    values: tuple[str, ...] = ()
    description: str = ""

    @model_validator(mode="after")
    def _refers_by_kind(self) -> Self:
        if (self.kind == "id") != (self.entity is not None):
            raise ValueError("an id column, and only an id column, names its entity")
        if (self.kind in ("counter", "delta")) != (self.counter is not None):
            raise ValueError("a counter or delta column, and only one, names its counter")
        if (self.kind == "category") != bool(self.values):
            raise ValueError("a category column, and only one, lists its values")
        return self


class Join(_Model):
    """``key`` pairs one column of this dataset with one of ``dataset`` (equal values join);
    the join brings ``columns`` of ``dataset`` to this one."""

    dataset: str
    key: dict[str, str] = Field(min_length=1, max_length=1)
    columns: tuple[str, ...] = Field(min_length=1)

    @property
    def pair(self) -> tuple[str, str]:
        """(this dataset's column, the joined dataset's column): ``("video_id", "id")``."""
        return next(iter(self.key.items()))


class Dataset(_Model):
    """A table that can be asked about, at its grain ("one row per video per hour")."""

    table: str
    grain: str
    description: str
    scope: Literal["chat"] | None = None
    """``chat``: group-chat data, only ever read within the chat a question was asked in."""
    columns: dict[str, Column]
    joins: tuple[Join, ...] = ()


class Dimension(_Model):
    """What a grouped plan has one row per: an entity (its id column) or a time bucket."""

    entity: str | None = None
    bucket: Bucket | None = None

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if (self.entity is None) == (self.bucket is None):
            raise ValueError("a dimension is either an entity or a time bucket")
        return self


class Synonym(_Model):
    """The words that say one ``counter``, ``entity`` or ``concept``: English words as
    written, Russian lemmas (dictionary forms)."""

    counter: str | None = None
    entity: str | None = None
    concept: str | None = None
    en: tuple[str, ...] = ()
    ru: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _names_one_thing(self) -> Self:
        if len(self.meaning) != 1:
            raise ValueError("a synonym names exactly one of counter, entity, concept")
        if any(word != word.strip().lower() or not word for word in (*self.en, *self.ru)):
            raise ValueError("synonyms are lowercase single words")
        return self

    @property
    def meaning(self) -> dict[str, str]:
        """``{"counter": "views"}``: what the words name (one entry when valid)."""
        named = {"counter": self.counter, "entity": self.entity, "concept": self.concept}
        return {section: name for section, name in named.items() if name is not None}


class SemanticCatalog(_Model):
    """Datasets, their columns and joins, measures, dimensions and the words for them.

    Raises ``pydantic.ValidationError`` when a name refers to nothing, a join brings a
    column its dataset lacks or already has, or a word is a synonym of two terms.
    """

    counters: dict[str, Names]
    entities: dict[str, Names]
    concepts: dict[str, str]
    datasets: dict[str, Dataset]
    measures: dict[str, tuple[Literal["rows"] | Kind, ...]]
    dimensions: dict[str, Dimension]
    synonyms: dict[str, Synonym]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for name, dataset in self.datasets.items():
            self._check_columns(name, dataset)
            for join in dataset.joins:
                self._check_join(name, dataset, join)
        for name, dimension in self.dimensions.items():
            if dimension.entity is not None and dimension.entity not in self.entities:
                raise ValueError(f"dimension {name!r}: unknown entity {dimension.entity!r}")
        self._check_synonyms()
        return self

    def _check_columns(self, name: str, dataset: Dataset) -> None:
        for column_name, column in dataset.columns.items():
            if column.entity is not None and column.entity not in self.entities:
                raise ValueError(f"{name}.{column_name}: unknown entity {column.entity!r}")
            if column.counter is not None and column.counter not in self.counters:
                raise ValueError(f"{name}.{column_name}: unknown counter {column.counter!r}")

    def _check_join(self, name: str, dataset: Dataset, join: Join) -> None:
        where = f"join of {name} to {join.dataset}"
        target = self.datasets.get(join.dataset)
        if target is None or join.dataset == name:
            raise ValueError(f"{where}: no such other dataset")
        own, other = join.pair
        if own not in dataset.columns or other not in target.columns:
            raise ValueError(f"{where}: on {own} = {other} names a column neither has")
        for column in join.columns:
            if column not in target.columns:
                raise ValueError(f"{where}: column {column!r} is not in {join.dataset}")
            if column in dataset.columns:
                raise ValueError(f"{where}: column {column!r} is already in {name}")

    def _check_synonyms(self) -> None:
        sections: dict[str, Collection[str]] = {
            "counter": self.counters,
            "entity": self.entities,
            "concept": self.concepts,
        }
        named: dict[tuple[str, str], list[str]] = {}
        for term, synonym in self.synonyms.items():
            [(section, name)] = synonym.meaning.items()
            if name not in sections[section]:
                raise ValueError(f"synonym {term!r}: unknown {section} {name!r}")
            named.setdefault((section, name), []).append(term)
        for section, names in sections.items():
            for name in names:
                terms = named.get((section, name), [])
                if section == "concept" and not terms:
                    raise ValueError(f"concept {name!r} has no entry under synonyms")
                if section != "concept" and len(terms) != 1:
                    raise ValueError(f"{section} {name!r} needs one entry under synonyms: {terms}")
        self._check_words_unique()

    def _check_words_unique(self) -> None:
        seen: dict[tuple[str, str], str] = {}
        for term, language, word in self._words():
            other = seen.setdefault((language, word), term)
            if other != term:
                raise ValueError(f"{language} word {word!r} is a synonym of {other!r} and {term!r}")

    def _words(self) -> Iterator[tuple[str, str, str]]:
        for term, synonym in self.synonyms.items():
            yield from ((term, "en", word) for word in synonym.en)
            yield from ((term, "ru", word) for word in synonym.ru)

    def columns(self, dataset: str) -> dict[str, Column]:
        """Every column a plan over ``dataset`` may name: its own, then those its joins bring."""
        own = self.datasets[dataset]
        joined = {
            name: self.datasets[join.dataset].columns[name]
            for join in own.joins
            for name in join.columns
        }
        return own.columns | joined

    def chat_scoped(self, dataset: str) -> bool:
        """True for group-chat data (``scope: chat``): read only within the asking chat."""
        return self.datasets[dataset].scope == "chat"

    def joined_columns(self, dataset: str) -> dict[str, Join]:
        """The columns of ``dataset`` that live in another table, each with the join that
        brings it: ``{"creator_id": <join to videos on video_id = id>, ...}``."""
        return {name: join for join in self.datasets[dataset].joins for name in join.columns}

    def column_names(self, dataset: str, *kinds: Kind) -> tuple[str, ...]:
        """The names of ``dataset``'s columns (joined ones included) of ``kinds``, in order."""
        return tuple(name for name, column in self.columns(dataset).items() if column.kind in kinds)

    def entity_column(self, dataset: str, entity: str) -> str:
        """The id column of ``entity`` in ``dataset`` (maybe joined): ``video`` in
        ``video_snapshots`` is ``video_id``. Raises KeyError when the dataset has none."""
        for name, column in self.columns(dataset).items():
            if column.entity == entity:
                return name
        raise KeyError(f"{dataset} has no {entity} column")

    def english_words(self) -> dict[str, str]:
        """Every English synonym, lowercase, with its term: ``{"clips": "videos", ...}``."""
        return {word: term for term, language, word in self._words() if language == "en"}

    def russian_lemmas(self) -> dict[str, tuple[str, ...]]:
        """Each term with its Russian lemmas: ``{"views": ("просмотр",), ...}``."""
        return {term: synonym.ru for term, synonym in self.synonyms.items() if synonym.ru}

    def words(self, section: Section, name: str, language: Literal["en", "ru"]) -> tuple[str, ...]:
        """The synonyms of one counter, entity or concept in ``language`` ("en" words, "ru"
        lemmas): ``("entity", "video", "en")`` -> ``("videos", "video", "clips", "clip")``."""
        return tuple(
            word
            for synonym in self.synonyms.values()
            if synonym.meaning == {section: name}
            for word in (synonym.en if language == "en" else synonym.ru)
        )
