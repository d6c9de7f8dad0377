"""Alertmanager label matchers: ``name=value``, ``name!=value``, ``name=~regex``,
``name!~regex`` (https://prometheus.io/docs/alerting/latest/configuration/#matcher).

Values may be double-quoted (``severity="critical"``). Regular expressions are fully
anchored, as in Alertmanager: ``team=~"front"`` does not match ``frontend``. A label that is
absent has the empty value, so ``env!=prod`` matches an alert without ``env``.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, cast

from tally.infra.errors import UserFacingError

MatchOp = Literal["=", "!=", "=~", "!~"]
_MATCHER = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$")


class MatcherError(UserFacingError):
    """A matcher could not be parsed (bad syntax or an invalid regular expression)."""


@dataclass(frozen=True, slots=True)
class Matcher:
    """One parsed matcher; ``pattern`` is compiled for the regex operators."""

    name: str
    op: MatchOp
    value: str
    pattern: re.Pattern[str] | None = None

    def matches(self, labels: Mapping[str, str]) -> bool:
        """True when ``labels`` satisfy this matcher (absent labels read as "")."""
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        assert self.pattern is not None
        found = self.pattern.fullmatch(actual) is not None
        return found if self.op == "=~" else not found

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{self.value}"'


def parse_matcher(text: str) -> Matcher:
    """Parse one matcher; raise :class:`MatcherError` with a sentence fit for an admin."""
    found = _MATCHER.match(text)
    if not found:
        raise MatcherError(f"“{text}” is not a matcher (expected name=value, !=, =~ or !~)")
    name, op, value = found.group(1), cast(MatchOp, found.group(2)), found.group(3)
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1]
    if op in ("=", "!="):
        return Matcher(name, op, value)
    try:
        return Matcher(name, op, value, re.compile(value))
    except re.error as error:
        raise MatcherError(f"“{value}” is not a valid regular expression: {error}") from error


def parse_matchers(texts: Iterable[str]) -> tuple[Matcher, ...]:
    """Parse each matcher (see :func:`parse_matcher`)."""
    return tuple(parse_matcher(text) for text in texts)


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    """True when ``labels`` satisfy every matcher (an empty list matches everything)."""
    return all(matcher.matches(labels) for matcher in matchers)
