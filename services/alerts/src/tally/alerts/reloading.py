"""The rules file on disk: loaded at start, re-read when its mtime changes or on request
(SIGHUP). An invalid file is logged and the previous rules stay in force. The thresholds set
in the environment (``ALERT_<RULE>_THRESHOLD``) replace the file's at every read."""

from collections.abc import Mapping
from pathlib import Path

import structlog

from tally.alerts.domain.rules_file import RulesFile, RulesFileError, parse_rules_file

log = structlog.get_logger(__name__)


def read_rules(path: Path) -> RulesFile:
    """Parse the rules file at ``path``; raise RulesFileError when unreadable or invalid."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RulesFileError(f"cannot read rules file {path}: {error}") from error
    return parse_rules_file(text, path=str(path))


def with_thresholds(rules: RulesFile, thresholds: Mapping[str, float]) -> RulesFile:
    """``rules`` with the threshold of each rule named in ``thresholds`` replaced (its
    comparison kept); a name no rule has is logged and ignored."""
    if missing := sorted(set(thresholds) - {rule.name for rule in rules.rules}):
        log.warning("threshold set for rules the file does not have", rules=missing)
    changed = tuple(
        rule.model_copy(
            update={
                "condition": rule.condition.model_copy(update={"threshold": thresholds[rule.name]})
            }
        )
        if rule.name in thresholds
        else rule
        for rule in rules.rules
    )
    return rules.model_copy(update={"rules": changed})


class RulesSource:
    """One rules file, the thresholds that override its rules', and the modification time of
    the version last read."""

    def __init__(self, path: Path, thresholds: Mapping[str, float] | None = None) -> None:
        self.path = path
        self.thresholds = dict(thresholds or {})
        self.mtime: float | None = None
        self.forced = False

    def load(self) -> RulesFile:
        """Read the file now (at start: an invalid file stops the service)."""
        self.mtime = self._mtime()
        return with_thresholds(read_rules(self.path), self.thresholds)

    def request_reload(self) -> None:
        """Re-read at the next :meth:`changed`, whatever the mtime (SIGHUP)."""
        self.forced = True

    def changed(self) -> RulesFile | None:
        """The new rules when the file changed (or a reload was requested) and is valid;
        None when unchanged or invalid (logged once per version)."""
        mtime = self._mtime()
        if mtime == self.mtime and not self.forced:
            return None
        self.mtime, self.forced = mtime, False
        try:
            rules = read_rules(self.path)
        except RulesFileError as error:
            log.error("rules file not reloaded; previous rules stay", error=str(error))
            return None
        log.info("rules reloaded", path=str(self.path), rules=len(rules.rules))
        return with_thresholds(rules, self.thresholds)

    def _mtime(self) -> float | None:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return None
