"""Pure logic of nl2sql: the built-in parser of questions into query plans (no broker, no I/O)."""

from tally.nl2sql.domain.parser import parse
from tally.nl2sql.domain.refusal import Readings, Refusal, failure_reason

__all__ = ["Readings", "Refusal", "failure_reason", "parse"]
