"""Which events of a fetch may be applied now, so chat events are applied in stream order.

Edits, deletions and reactions do not commute with the messages they change, so ingest
applies chat events in the order of their stream sequence. JetStream keeps that order until
a fetch goes unacknowledged (a process killed mid-batch, a nak): its events are redelivered
after the consumer's AckWait, while later fetches hand out newer ones.

Given the sequences of one fetch and ``floor`` (every sequence up to it is stored), the fetch
splits into events already stored (``stale``: acknowledge, do not apply again), the run that
continues the floor without a gap (``ready``: apply in this order), and the rest (``later``:
nak, so they come back after the older ones).
"""

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Split:
    """Indexes into the fetch: ``ready`` in stream order, the others in fetch order."""

    stale: tuple[int, ...]
    ready: tuple[int, ...]
    later: tuple[int, ...]


def split_in_order(sequences: Sequence[int], floor: int) -> Split:
    """Split a fetch whose events have stream ``sequences`` (one per event, distinct) given
    that every sequence up to ``floor`` (inclusive) is stored. O(n log n)."""
    stale = tuple(index for index, seq in enumerate(sequences) if seq <= floor)
    newer = sorted((seq, index) for index, seq in enumerate(sequences) if seq > floor)
    ready: list[int] = []
    expected = floor + 1
    for seq, index in newer:
        if seq != expected:
            break
        ready.append(index)
        expected += 1
    taken = set(ready)
    later = tuple(index for _, index in newer if index not in taken)
    return Split(stale=stale, ready=tuple(ready), later=later)


def first_newer(sequences: Sequence[int], floor: int) -> int | None:
    """The lowest sequence above ``floor`` in the fetch, or None."""
    return min((seq for seq in sequences if seq > floor), default=None)
