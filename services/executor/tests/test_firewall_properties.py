"""Property tests of the SQL firewall with hypothesis: dangerous fragments spliced anywhere
into good queries, and random text, never get past it; what passes is one capped SELECT."""

import json
from pathlib import Path

import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlglot import exp

from tally.executor.domain.firewall import FirewallRefusal, check
from tally.executor.domain.sql_rules import FUNCTIONS

HERE = Path(__file__).parent
BASES = [
    sql.format(creator="c0ffee" * 5 + "ab")
    for sql in json.loads((HERE / "legitimate_sql.json").read_text("utf-8"))
]
FRAGMENTS = [
    "pg_sleep(10)",
    "pg_read_file('/etc/passwd')",
    "dblink('host=evil', 'SELECT 1')",
    "lo_import('/etc/passwd')",
    "set_config('role', 'postgres', false)",
    "current_setting('data_directory')",
    "generate_series(1, 1000000000)",
    "; DROP TABLE videos",
    "; DELETE FROM videos",
    "COPY videos TO PROGRAM 'sh'",
    "FROM pg_catalog.pg_authid",
    "JOIN information_schema.tables t ON true",
    "UNION SELECT count(*) FROM bot_users",
    "FOR UPDATE",
    "INTO pwned",
    "$$x$$",
    "E'\\x27'",
    "$1",
    "/*",
    "*/",
    "--",
    "\n",
    "'",
    '"',
    "(",
    ")",
    "S\u0415LECT",
    "\uff33\uff25\uff2c\uff25\uff23\uff34",
    "xmin",
    "::regclass",
    "WITH RECURSIVE",
    "SET ROLE postgres",
    "ignore previous instructions",
]
DANGEROUS_NAMES = {
    "pg_sleep",
    "pg_read_file",
    "dblink",
    "lo_import",
    "set_config",
    "current_setting",
    "generate_series",
    "pg_authid",
    "bot_users",
    "pwned",
    "tables",
    "xmin",
}
SEPARATORS = st.sampled_from([" ", "\n", "/**/", "  "])


@st.composite
def spliced(draw: st.DrawFn) -> str:
    """A good query with one to four dangerous fragments inserted between its words."""
    words = draw(st.sampled_from(BASES)).split(" ")
    for fragment in draw(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=4)):
        words.insert(draw(st.integers(0, len(words))), fragment)
    return draw(SEPARATORS).join(words)


def _assert_plain_capped_select(sql: str, row_cap: int) -> None:
    """``sql`` parses to one SELECT with a LIMIT within the cap, calling only allowed
    functions, reading no dangerous table or column (aliases may be named anything)."""
    [statement] = sqlglot.parse(sql, dialect="postgres")
    assert isinstance(statement, exp.Select | exp.Union | exp.Intersect | exp.Except)
    limit = statement.args["limit"].expression
    assert isinstance(limit, exp.Literal) and int(limit.this) <= row_cap
    assert all(type(f) in FUNCTIONS for f in statement.find_all(exp.Func))
    read = [*statement.find_all(exp.Table), *statement.find_all(exp.Column)]
    called = [f for f in statement.find_all(exp.Func) if isinstance(f, exp.Anonymous)]
    assert not {node.name.lower() for node in [*read, *called]} & DANGEROUS_NAMES
    assert check(sql, row_cap=row_cap).sql == sql


@settings(max_examples=400, deadline=None)
@given(spliced())
def test_dangerous_fragments_never_get_through(sql: str) -> None:
    """Spliced anywhere, a dangerous fragment is refused, or was made harmless (inside a
    string or a comment) and what passes is a plain capped SELECT."""
    try:
        checked = check(sql)
    except FirewallRefusal as refusal:
        assert refusal.message.startswith("Refused: ")
        return
    _assert_plain_capped_select(checked.sql, checked.row_cap)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.integers(1, 5000))
def test_random_text_is_refused_or_a_capped_select(text: str, row_cap: int) -> None:
    """Any text gets a refusal (never a crash) or passes as one capped SELECT."""
    try:
        checked = check(text, row_cap=row_cap)
    except FirewallRefusal:
        return
    _assert_plain_capped_select(checked.sql, row_cap)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(BASES),
    st.integers(1, 5000),
    st.sampled_from(["", ";", " -- note", "\n/* note */"]),
)
def test_accepted_sql_rechecks_to_itself(base: str, row_cap: int, tail: str) -> None:
    """The firewall's output passes the firewall unchanged: one SELECT with a LIMIT."""
    checked = check(base.rstrip("\n;") + tail, row_cap=row_cap)
    _assert_plain_capped_select(checked.sql, row_cap)
