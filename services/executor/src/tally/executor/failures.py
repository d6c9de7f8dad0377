"""PostgreSQL's and the network's failures as Tally's user-facing errors, none of the
database's text kept.

A database error's message and DETAIL can quote the data it failed on (``invalid input
syntax for type integer: "<a stored message>"``), so neither reaches a reply nor a log line.
The reply is a fixed sentence chosen by the error's SQLSTATE: the code itself when
:data:`SQLSTATES` lists it, else its class (the first two characters), else a default
(codes: PostgreSQL's documentation, Appendix A "PostgreSQL Error Codes"). A log line carries
the SQLSTATE, the exception's class and the query's :func:`fingerprint`, nothing else
(:func:`tally.infra.db.reader.diagnostic`). DatabaseUnavailableError and its sentence
UNAVAILABLE are the shared reader's (:mod:`tally.infra.db.reader`).
"""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import asyncpg
import structlog

from tally.infra.db.reader import UNAVAILABLE, DatabaseUnavailableError, diagnostic
from tally.infra.errors import UserFacingError

log = structlog.get_logger(__name__)

TOO_LONG = "The question took too long to answer; try a narrower one."
DATA = (
    "The database could not compute the answer: a value did not fit an operation in the query"
    " (a cast, a division by zero, a date out of range)."
)
ACCESS = (
    "The database refused the query: it names something it does not know or may not read,"
    " or it is not valid there."
)
READ_ONLY = "The database refused the query: only reading is allowed."
RESOURCES = "The database is short of resources right now; try again in a minute."
LIMITS = "The query is too complex for the database; ask a simpler question."
FAILED = "The database could not run the query; try again in a minute."


class QueryTimeoutError(UserFacingError):
    """The query ran past its deadline or the statement timeout."""


class QueryRejectedError(UserFacingError):
    """PostgreSQL refused the statement itself (a name it does not know, a value that does not
    fit a cast, a permission, a write in a read-only transaction)."""


class ResultTooLargeError(UserFacingError):
    """The result ran past the byte budget for one answer."""


@dataclass(frozen=True, slots=True)
class Failure:
    """What a SQLSTATE becomes: the error raised and the sentence it carries."""

    error: type[UserFacingError]
    sentence: str


SQLSTATES: dict[str, Failure] = {
    "57014": Failure(QueryTimeoutError, TOO_LONG),
    "22": Failure(QueryRejectedError, DATA),
    "42": Failure(QueryRejectedError, ACCESS),
    "25": Failure(QueryRejectedError, READ_ONLY),
    "53": Failure(DatabaseUnavailableError, RESOURCES),
    "54": Failure(QueryRejectedError, LIMITS),
    "08": Failure(DatabaseUnavailableError, UNAVAILABLE),
    "57": Failure(DatabaseUnavailableError, UNAVAILABLE),
}
"""SQLSTATE code or class -> failure: 57014 query_canceled (statement_timeout), 22 data
exception, 42 syntax error or access rule violation, 25 invalid transaction state (a write
in a read-only transaction), 53 insufficient resources, 54 program limit exceeded, 08
connection exception, 57 operator intervention (shutdown, cannot connect now)."""
DEFAULT = Failure(DatabaseUnavailableError, FAILED)
"""The failure of any other SQLSTATE."""


def failure(sqlstate: str | None) -> Failure:
    """The failure for a five-character ``sqlstate`` (None or unknown: :data:`DEFAULT`)."""
    code = sqlstate or ""
    return SQLSTATES.get(code) or SQLSTATES.get(code[:2]) or DEFAULT


def fingerprint(sql: str) -> str:
    """The first 12 hex digits of the SHA-256 of ``sql`` (UTF-8): names a query in a log line
    without its text."""
    return hashlib.sha256(sql.encode()).hexdigest()[:12]


@contextmanager
def translated(sql: str) -> Iterator[None]:
    """asyncpg's and the network's exceptions raised inside, as the :data:`SQLSTATES` error
    with its fixed sentence (the original is neither chained nor logged: only its SQLSTATE,
    class and the fingerprint of ``sql``)."""
    try:
        yield
    except asyncpg.PostgresError as error:
        found = failure(error.sqlstate)
        log.warning("query failed", query=fingerprint(sql), **diagnostic(error))
        raise found.error(found.sentence) from None
    except (OSError, asyncpg.InterfaceError, TimeoutError) as error:
        log.error("database unreachable", query=fingerprint(sql), **diagnostic(error))
        raise DatabaseUnavailableError(UNAVAILABLE) from None
