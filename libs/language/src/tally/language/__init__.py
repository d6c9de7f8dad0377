"""Tally's language engine (pure, no broker, no I/O): the built-in parser of questions into
query plans, their interpretations and refusals. Used by nl2sql and by the alerts service's
/watch."""

from tally.language.parser import parse
from tally.language.refusal import Readings, Refusal, failure_reason

__all__ = ["Readings", "Refusal", "failure_reason", "parse"]
