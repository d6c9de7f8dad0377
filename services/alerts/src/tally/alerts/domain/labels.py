"""Label sets and their fingerprints.

An alert is identified by its label set, as in Prometheus: the fingerprint is the first 16
hex digits of the SHA-256 of the labels sorted by name (``name=value`` lines), so it is
stable across processes and restarts. Group ids are the fingerprints of a group's labels.
"""

import hashlib
from collections.abc import Mapping

LabelKey = tuple[tuple[str, str], ...]
"""A label set as a hashable, sorted tuple of (name, value) pairs."""


def label_key(labels: Mapping[str, str]) -> LabelKey:
    """``labels`` sorted by name, hashable (a dict key for series and alerts)."""
    return tuple(sorted(labels.items()))


def fingerprint(labels: Mapping[str, str]) -> str:
    """16 lowercase hex digits identifying ``labels`` (SHA-256 of the sorted pairs)."""
    text = "\n".join(f"{name}={value}" for name, value in label_key(labels))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
