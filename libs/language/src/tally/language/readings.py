"""The readings of a question with two or three sensible meanings ("views in November":
of videos published in November, or gained during November): one plan for each.
"""

from dataclasses import replace

from tally.language.build import build
from tally.language.scan import Unclear
from tally.language.signals import ANY_COUNTER, Signals
from tally.language.taken import Taken
from tally.semantic.plan import Dataset, QueryPlan


def other_readings(signals: Signals, taken: Taken, unclear: Unclear) -> list[QueryPlan]:
    """Each alternative reading that builds a plan, or ``unclear`` raised again."""
    plans = []
    for alternative in _alternatives(signals, taken, unclear.reason):
        try:
            plans.append(build(alternative, taken))
        except Unclear:
            continue
    if len(plans) < 2:
        raise unclear
    return plans


def _alternatives(signals: Signals, taken: Taken, reason: str) -> list[Signals]:
    """The readings worth offering when a question is unclear for ``reason``: the date as
    publication or as the time of growth (of the snapshots, for counts); views, likes or
    comments when none is named (views, likes or number of videos for ranked creators)."""
    if reason == "date_meaning" and signals.dataset is Dataset.VIDEOS:
        counts = signals.target in ("video", "creator")
        other = replace(signals, snapshot=True) if counts else replace(signals, growth=True)
        return [replace(signals, published=True), other]
    if reason == "counter" and signals.target == ANY_COUNTER:
        targets = ["views_count", "likes_count", "comments_count"]
        if taken.ranking and taken.ranking.entity == "creator":
            targets[-1] = "video"
        return [
            replace(signals, target=target, counters=frozenset({target} - {"video"}))
            for target in targets
        ]
    return []
