"""Alertmanager's inhibition (https://prometheus.io/docs/alerting/latest/configuration/#inhibit_rule):
while a *source* alert fires, *target* alerts with equal values of the ``equal`` labels are not
notified. As in Alertmanager, an alert never inhibits itself, and when the target also matches
the source matchers, sources that also match the target matchers are not counted.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tally.alerts.domain.matchers import Matcher, matches_all, parse_matchers
from tally.alerts.domain.rules_file import InhibitRule


@dataclass(frozen=True, slots=True)
class Inhibitor:
    """One compiled inhibit rule."""

    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]

    @classmethod
    def compile(cls, rule: InhibitRule) -> "Inhibitor":
        """Parse ``rule``'s matchers (already validated when the file was read)."""
        return cls(
            parse_matchers(rule.source_matchers), parse_matchers(rule.target_matchers), rule.equal
        )

    def inhibits(self, target: Mapping[str, str], firing: Sequence[Mapping[str, str]]) -> bool:
        """True when some alert of ``firing`` (label sets) inhibits ``target``."""
        if not matches_all(self.target, target):
            return False
        two_sided = matches_all(self.source, target)
        return any(
            source is not target
            and dict(source) != dict(target)
            and matches_all(self.source, source)
            and not (two_sided and matches_all(self.target, source))
            and all(source.get(name, "") == target.get(name, "") for name in self.equal)
            for source in firing
        )


def inhibited(
    target: Mapping[str, str], firing: Sequence[Mapping[str, str]], rules: Sequence[Inhibitor]
) -> bool:
    """True when any rule inhibits ``target`` given the ``firing`` alerts' labels."""
    return any(rule.inhibits(target, firing) for rule in rules)
