"""The catalog's names of counters and counted entities, in English or Russian, and how
the parts of an interpretation are joined into one line.
"""

from typing import Final

from tally.contracts.events import Language
from tally.semantic import Names, catalog

CATALOG: Final = catalog()

_COUNTER_OF: Final = {
    name: column.counter
    for dataset in CATALOG.datasets.values()
    for name, column in dataset.columns.items()
    if column.counter is not None
}
"""Counter and delta columns with their counter: ``{"delta_views_count": "views", ...}``."""


def _names(names: Names, language: Language) -> tuple[str, str]:
    """(plural, singular) in English; (genitive plural, nominative plural) in Russian."""
    if language == "en":
        return names.en.plural, names.en.singular
    return names.ru.plural_genitive, names.ru.plural


def counter_names(column: str, language: Language) -> tuple[str, str]:
    """The names of the counter ``column`` holds or whose change it holds."""
    return _names(CATALOG.counters[_COUNTER_OF[column]], language)


def join_parts(parts: list[str], language: Language) -> str:
    """English parts follow each other; a Russian participle or owner phrase takes a comma."""
    if language == "en":
        return " ".join(parts)
    glued = (f" {part}" if part.startswith(("с ", "за ")) else f", {part}" for part in parts[1:])
    return parts[0] + "".join(glued)
