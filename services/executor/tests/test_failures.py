"""Database failures as fixed sentences: every SQLSTATE class has its sentence, the query is
named by a fingerprint, and what a log line says about an error never includes its message.
No database."""

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from tally.executor.failures import (
    ACCESS,
    DATA,
    FAILED,
    LIMITS,
    READ_ONLY,
    RESOURCES,
    TOO_LONG,
    UNAVAILABLE,
    DatabaseUnavailableError,
    QueryRejectedError,
    QueryTimeoutError,
    diagnostic,
    failure,
    fingerprint,
)
from tally.infra.db.tracing import QuietTracer
from tally.infra.errors import UserFacingError


@pytest.mark.parametrize(
    ("sqlstate", "error", "sentence"),
    [
        ("22P02", QueryRejectedError, DATA),
        ("22012", QueryRejectedError, DATA),
        ("42501", QueryRejectedError, ACCESS),
        ("42703", QueryRejectedError, ACCESS),
        ("25006", QueryRejectedError, READ_ONLY),
        ("57014", QueryTimeoutError, TOO_LONG),
        ("57P01", DatabaseUnavailableError, UNAVAILABLE),
        ("53200", DatabaseUnavailableError, RESOURCES),
        ("54001", QueryRejectedError, LIMITS),
        ("08006", DatabaseUnavailableError, UNAVAILABLE),
        ("XX000", DatabaseUnavailableError, FAILED),
        (None, DatabaseUnavailableError, FAILED),
    ],
)
def test_each_sqlstate_class_has_one_fixed_sentence(
    sqlstate: str | None, error: type[UserFacingError], sentence: str
) -> None:
    """The code wins over its class (57014 is a timeout, other 57s an outage); an unknown
    code gets the default sentence."""
    found = failure(sqlstate)
    assert (found.error, found.sentence) == (error, sentence)


def test_a_fingerprint_names_a_query_without_its_text() -> None:
    """12 hex digits of SHA-256: the same for the same text, different for another."""
    sql = "SELECT count(*) FROM videos WHERE creator_id = 'secret'"
    assert fingerprint(sql) == fingerprint(sql) != fingerprint(sql + " ")
    assert len(fingerprint(sql)) == 12 and int(fingerprint(sql), 16) >= 0
    assert "secret" not in fingerprint(sql)


def test_a_diagnostic_names_the_error_and_where_never_its_message() -> None:
    """The class and file:line of an exception, none of the value it carries."""
    try:
        int("tally-canary-4f1e")
    except ValueError as error:
        fields = diagnostic(error)
    assert fields["error"] == "ValueError"
    assert fields["at"].startswith("test_failures.py:")
    assert "canary" not in repr(fields)


def test_a_quiet_span_keeps_no_exception_message() -> None:
    """An exception leaving a database span marks it failed, and records neither an exception
    event nor a status description (both would carry the message)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = QuietTracer(provider.get_tracer("test"))
    with pytest.raises(ValueError), tracer.start_as_current_span("SELECT") as span:
        span.set_status(StatusCode.ERROR)
        raise ValueError("tally-canary-9d2c")
    [finished] = exporter.get_finished_spans()
    assert finished.events == () and finished.status.description is None
    assert finished.status.status_code is StatusCode.ERROR
