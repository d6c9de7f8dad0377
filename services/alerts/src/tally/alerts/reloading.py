"""The rules file on disk: loaded at start, re-read when its mtime changes or on request
(SIGHUP). An invalid file is logged and the previous rules stay in force."""

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


class RulesSource:
    """One rules file and the modification time of the version last read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.mtime: float | None = None
        self.forced = False

    def load(self) -> RulesFile:
        """Read the file now (at start: an invalid file stops the service)."""
        self.mtime = self._mtime()
        return read_rules(self.path)

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
        return rules

    def _mtime(self) -> float | None:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return None
