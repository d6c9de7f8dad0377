"""What the words of a question say once its phrases are taken (:mod:`taken`): what is
counted ("how many videos"), the aggregate ("average", "median"), the counters named, and
whether the question is about growth, decline, snapshots, publication or acquisition.

Signals are read without taking the words; :mod:`leftover` takes them once the plan is built.
"""

import re
from dataclasses import dataclass, replace
from typing import Final

from tally.language import vocabulary as words
from tally.language.dates import DaySpan
from tally.language.scan import Scan, Unclear
from tally.language.taken import Taken
from tally.semantic.plan import Aggregate, Dataset


@dataclass(frozen=True, slots=True)
class Signals:
    """What the words of the question say, once dates, ids and comparisons are taken."""

    target: str | None
    """What "how many" asks about: "video", "creator", "snapshot" or a counter column."""
    aggregate: Aggregate | None
    counters: frozenset[str]
    growth: bool
    decline: bool
    delta: bool
    snapshot: bool
    published: bool
    acquired: bool

    @property
    def dataset(self) -> Dataset:
        """Snapshots for a question about change or snapshots, else videos."""
        if self.snapshot or self.growth or self.decline or self.delta:
            return Dataset.SNAPSHOTS
        return Dataset.VIDEOS

    def counter(self) -> str:
        """The one counter the question names; raises :class:`Unclear` ("counter") otherwise."""
        if len(self.counters) != 1:
            raise Unclear("counter")
        return next(iter(self.counters))

    def column(self, counter: str) -> str:
        """``counter`` itself, or its ``delta_`` column when the question is about change."""
        changes = self.growth or self.decline or self.delta
        return f"delta_{counter}" if self.dataset is Dataset.SNAPSHOTS and changes else counter


ANY_COUNTER: Final = "counter"
"""The target of a ranking or a video's question that names no counter: offered as readings."""


def read_signals(scan: Scan, taken: Taken) -> Signals:
    """What the words left in ``scan`` say, given the phrases ``taken``; raises
    :class:`Unclear` ("unknown") for a share of anything but videos or snapshots, or for
    aggregates that conflict."""
    target = _target(scan.text)
    if subject := _subject(taken, target):
        return _signals(scan, target, frozenset({subject}))
    if taken.share or taken.period:
        target = _first_kind(scan.text) if taken.share else "period"
        if taken.share and target not in ("video", "snapshot"):
            raise Unclear("unknown")
    counters = frozenset(words.counter_of(m) for m in words.COUNTER.finditer(scan.text))
    if taken.ranking and taken.ranking.counter:
        counters = frozenset({taken.ranking.counter})
    if target is None and (taken.ranking or taken.series or taken.video):
        target = _grouped_target(scan, taken, counters)
    return _signals(scan, target, counters, taken.fraction)


def _signals(
    scan: Scan, target: str | None, counters: frozenset[str], fraction: float | None = None
) -> Signals:
    return Signals(
        target=target,
        aggregate=_aggregate(scan, target, fraction),
        counters=counters,
        growth=scan.has(words.GROWTH),
        decline=scan.has(words.DECLINE),
        delta=scan.has(words.DELTA),
        snapshot=scan.has(words.SNAPSHOT),
        published=scan.has(words.PUBLISHED),
        acquired=scan.has(words.ACQUIRED),
    )


def with_growth(signals: Signals, span: DaySpan | None, compared: bool) -> Signals:
    """ "Videos that got views on <day>" is growth that day: a getting verb, a counter and a
    day, with no publication word and no threshold ("got more than 1000 views" is a total)."""
    if signals.acquired and span and signals.counters and not (signals.published or compared):
        return replace(signals, growth=True)
    return signals


_WORD: Final = re.compile(r"\w+")

_ENTITIES: Final = (
    ("video", words.VIDEO),
    ("creator", words.CREATOR),
    ("snapshot", words.SNAPSHOT),
)


def _kind(word: str) -> str | None:
    for kind, pattern in _ENTITIES:
        if pattern.fullmatch(word):
            return kind
    counter = words.COUNTER.fullmatch(word)
    return words.counter_of(counter) if counter else None


def _skipped(word: str) -> bool:
    """Words between "how many" and what is counted: "total", "разных", "выросли"."""
    return any(p.fullmatch(word) for p in (words.FILLER, words.GROWTH, words.ACQUIRED))


def _target(text: str) -> str | None:
    """The first thing named after "how many" (skipping words like "total", "разных")."""
    for count in words.COUNT.finditer(text):
        kind = None
        for word in _WORD.finditer(text, count.end()):
            kind = _kind(word.group())
            if kind or not _skipped(word.group()):
                break
        if kind:
            return kind
        if not _WORD.search(text, count.end()):
            return _first_kind(text)
    return None


def _first_kind(text: str) -> str | None:
    """What is counted when "how many" ends the question: "Videos in May: how many?"."""
    return next(filter(None, (_kind(word.group()) for word in _WORD.finditer(text))), None)


def _grouped_target(scan: Scan, taken: Taken, counters: frozenset[str]) -> str | None:
    """What a ranking or series without "how many" measures: the one counter it names, or
    for creators ranked by "the most videos" their videos."""
    if taken.ranking and taken.ranking.counter:
        return taken.ranking.counter
    if len(counters) == 1:
        return next(iter(counters))
    if taken.ranking and taken.ranking.entity == "creator" and scan.has(words.VIDEO):
        return "video"
    return ANY_COUNTER if taken.ranking or taken.video else None


def _subject(taken: Taken, target: str | None) -> str | None:
    """The counter asked about a ranked entity when it is not the one it is ranked by ("how
    many comments does the most liked video have": comments), else None."""
    ranked_by = taken.ranking.counter if taken.ranking else None
    if ranked_by and target and target.endswith("_count") and target != ranked_by:
        return target
    return None


_AGGREGATES: Final = (
    (Aggregate.AVG, words.AVERAGE),
    (Aggregate.MEDIAN, words.MEDIAN),
    (Aggregate.MAX, words.MAXIMUM),
    (Aggregate.MIN, words.MINIMUM),
    (Aggregate.SUM, words.SUM),
)


def _aggregate(scan: Scan, target: str | None, fraction: float | None) -> Aggregate | None:
    """The aggregate named, a percentile when one was asked for."""
    aggregate = _take_aggregate(scan, target)
    if fraction is not None and aggregate not in (None, Aggregate.SUM):
        raise Unclear("unknown")
    return Aggregate.PERCENTILE if fraction is not None else aggregate


def _take_aggregate(scan: Scan, target: str | None) -> Aggregate | None:
    """The aggregate named; "view growth on …" with no "how many" is a sum."""
    found = [aggregate for aggregate, pattern in _AGGREGATES if scan.take(pattern)]
    if len(set(found)) > 1:  # "the total maximum": which one?
        raise Unclear("unknown")
    if not found and target is None and scan.has(words.GROWTH_NOUN):
        return Aggregate.SUM
    return found[0] if found else None
