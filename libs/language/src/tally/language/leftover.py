"""What is left of a question once it is read: the checks that refuse rather than guess.

Before a plan is built, words left that could change the meaning (a negation, an injection,
an unsupported request, a date not read) refuse the question; after, every word must be
one the plans were built on or a function word (:mod:`accounting`).
"""

from typing import Final

from tally.language import vocabulary as words
from tally.language.accounting import require_all_placed
from tally.language.scan import Scan, Unclear
from tally.language.signals import Signals
from tally.semantic.plan import QueryPlan


def check_leftover(scan: Scan, signals: Signals) -> None:
    """Refuse when words the parser did not read could change the meaning."""
    if signals.target is None and signals.aggregate is None:
        _name_unplaced(scan)
        raise Unclear("unknown")
    if scan.has(words.INJECTION):
        raise Unclear("unknown")
    if scan.has(words.UNSUPPORTED):
        raise Unclear("unsupported")
    if scan.has(words.LEFTOVER_DATE):
        raise Unclear("date")
    if scan.has(words.NEGATION) or scan.has(words.LEFTOVER):
        raise Unclear("unknown")
    if signals.target == "creator" and (quantifier := words.UNIVERSAL.search(scan.text)):
        raise Unclear("unplaced", words=(quantifier.group(),))


def _name_unplaced(scan: Scan) -> None:
    """Raise :class:`Unclear` ("unplaced") naming the words of a question that could not be
    read at all ("how many trending videos") when some are not words the parser reads."""
    rest = Scan(scan.text)
    for pattern in (*_READ_WORDS, words.COUNTER, words.AVERAGE, words.MAXIMUM, words.MINIMUM):
        rest.take(pattern)
    require_all_placed(rest)


_READ_WORDS: Final = (
    words.COUNT,
    words.FILLER,
    words.VIDEO,
    words.CREATOR,
    words.SNAPSHOT,
    words.GROWTH,
    words.GROWTH_NOUN,
    words.DECLINE,
    words.DELTA,
    words.PUBLISHED,
    words.ACQUIRED,
)
"""Words the signals were read from (without taking them): the plan is built on them."""


def account(scan: Scan, plans: list[QueryPlan]) -> None:
    """Take the words the plans were built on; raise :class:`Unclear` ("unplaced") when any
    other word is left that is not a function word. A counter the question names but no
    plan uses ("videos with likes" read as all videos) is left, so it is refused."""
    for pattern in _READ_WORDS:
        scan.take(pattern)
    used = _counters_used(plans)
    for match in list(words.COUNTER.finditer(scan.text)):
        if words.counter_of(match) in used:
            scan.blank(*match.span())
    require_all_placed(scan)


def _counters_used(plans: list[QueryPlan]) -> set[str]:
    """The counters (``views_count``...) that ``plans`` measure or filter, deltas included."""
    columns = {plan.measure.column for plan in plans}
    columns |= {f.column for plan in plans for f in plan.filters}
    return {column.removeprefix("delta_") for column in columns if column}
