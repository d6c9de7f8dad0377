"""The SQL firewall on its own: every hostile input refused with a reason, plain SELECTs over
the catalog accepted and re-rendered with a row cap. No database, milliseconds per case."""

import json
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from tally.executor.domain.firewall import DEFAULT_ROW_CAP, FirewallRefusal, check

HERE = Path(__file__).parent
CORPUS: dict[str, list[str]] = json.loads((HERE / "hostile_sql.json").read_text("utf-8"))
HOSTILE = [(family, sql) for family, cases in CORPUS.items() for sql in cases]
CREATOR = "c0ffee" * 5 + "ab"
LEGITIMATE = [
    sql.format(creator=CREATOR)
    for sql in json.loads((HERE / "legitimate_sql.json").read_text("utf-8"))
]


def test_the_corpus_is_large_and_distinct() -> None:
    """At least 300 different hostile inputs, in every family the issue names."""
    assert len({sql for _, sql in HOSTILE}) == len(HOSTILE) >= 300
    assert len(CORPUS) >= 10


@pytest.mark.parametrize(("family", "sql"), HOSTILE)
def test_hostile_sql_is_refused_with_a_reason(family: str, sql: str) -> None:
    """Each hostile input is refused, and the refusal says why in a sentence."""
    with pytest.raises(FirewallRefusal) as refusal:
        check(sql)
    assert refusal.value.message.startswith("Refused: ")
    assert len(refusal.value.message) > len("Refused: the query ")


@pytest.mark.parametrize("sql", LEGITIMATE)
def test_plain_selects_over_the_catalog_are_accepted_and_capped(sql: str) -> None:
    """Counts, sums, CTEs and joins pass, re-rendered as one SELECT with a LIMIT."""
    checked = check(sql)
    [statement] = sqlglot.parse(checked.sql, dialect="postgres")
    assert isinstance(statement, exp.Select)
    limit = statement.args["limit"].expression
    assert int(limit.this) <= DEFAULT_ROW_CAP
    assert checked.tables <= {"videos", "video_snapshots"}


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT pg_sleep(10)", "the function pg_sleep"),
        ("SELECT count(*) FROM videos WHERE pg_read_file('/etc/passwd') > ''", "pg_read_file"),
        ("SELECT 1; DROP TABLE videos", "more than one statement"),
        ("DROP TABLE videos", "this is a DROP statement"),
        ("SELECT * FROM pg_catalog.pg_authid", "schema-qualified table pg_catalog.pg_authid"),
        ("SELECT count(*) FROM bot_users", "the table bot_users, which is not in the catalog"),
        ("SELECT count(xmin) FROM videos", "the column xmin"),
        ("SELECT id FROM videos FOR UPDATE", "row lock"),
        ("SELECT * INTO pwned FROM videos", "INTO"),
        ("SELECT $$x$$", "dollar-quoted"),
        ("S\u0415LECT 1", "non-ASCII"),
        ("\uff33\uff25\uff2c\uff25\uff23\uff34 1", "look-alike"),
        ("SELECT count(*) FROM videos WHERE", "not valid PostgreSQL"),
        ("SHOW ALL", "SHOW command"),
        ("WITH RECURSIVE r AS (SELECT 1) SELECT count(*) FROM r", "WITH RECURSIVE"),
        ("SELECT 'videos'::regclass", "object identifier type"),
        (
            "WITH a AS (SELECT count(*) AS n FROM messages), m AS (SELECT 1 AS x) SELECT n FROM a",
            "the table messages, which is not in the catalog",
        ),
        ("WITH messages AS (SELECT 1 AS x) SELECT x FROM messages", "a CTE messages, like a table"),
        ("WITH a AS (SELECT 1 AS x), a AS (SELECT 2 AS x) SELECT x FROM a", "more than once"),
        ("SELECT count(v) FROM videos v", "the whole row of v"),
        ("SELECT count(*) FROM videos WHERE m.text IS NULL", "a column does not match"),
    ],
)
def test_refusals_name_what_was_refused(sql: str, reason: str) -> None:
    """The reason names the function, table, column or statement that was refused."""
    with pytest.raises(FirewallRefusal, match="Refused: ") as refusal:
        check(sql)
    assert reason in refusal.value.message


@pytest.mark.parametrize(
    ("sql", "expected_limit"),
    [
        ("SELECT views_count FROM videos", 50),
        ("SELECT views_count FROM videos LIMIT 7", 7),
        ("SELECT views_count FROM videos LIMIT 5000", 50),
        ("SELECT views_count FROM videos UNION SELECT likes_count FROM videos", 50),
    ],
)
def test_rows_are_capped(sql: str, expected_limit: int) -> None:
    """No LIMIT gets the cap; a smaller LIMIT is kept; a larger one is lowered to the cap."""
    rendered = check(sql, row_cap=50).sql
    assert rendered.endswith(f"LIMIT {expected_limit}")


def test_ctes_are_bound_where_postgresql_binds_them() -> None:
    """A CTE is visible in later CTEs, in its query and in subqueries beneath it: a name
    resolved through nested WITHs and subqueries reads the catalog tables it stands for."""
    sql = (
        "WITH a AS (SELECT id FROM videos), b AS (SELECT id FROM a) SELECT count(*) FROM b"
        " WHERE id IN (WITH c AS (SELECT video_id FROM video_snapshots) SELECT video_id FROM c"
        " WHERE video_id IN (SELECT id FROM a))"
    )
    assert check(sql).tables == {"videos", "video_snapshots"}


def test_a_limit_that_is_not_a_number_is_wrapped_under_the_cap() -> None:
    """A computed LIMIT cannot lift the cap: the query is wrapped and capped outside."""
    rendered = check("SELECT views_count FROM videos LIMIT 10 + 5000", row_cap=50).sql
    assert rendered.startswith("SELECT * FROM (SELECT views_count FROM videos LIMIT 10 + 5000)")
    assert rendered.endswith("LIMIT 50")


def test_comments_are_dropped_from_what_runs() -> None:
    """What runs is the checked tree re-rendered, so comments never reach PostgreSQL."""
    rendered = check("SELECT count(*) /* x */ FROM videos -- y\n").sql
    assert rendered == "SELECT COUNT(*) FROM videos LIMIT 1000"


def test_one_trailing_semicolon_is_accepted() -> None:
    """Models often end SQL with a semicolon; one at the very end is harmless."""
    assert check("SELECT count(*) FROM videos;").sql == "SELECT COUNT(*) FROM videos LIMIT 1000"


def test_russian_text_inside_a_string_literal_is_accepted() -> None:
    """Non-ASCII is refused outside string literals only."""
    assert "'блогер'" in check("SELECT count(*) FROM videos WHERE creator_id = 'блогер'").sql


def test_an_alias_does_not_smuggle_a_system_column() -> None:
    """A column named like a select alias must still resolve to a table's column."""
    with pytest.raises(FirewallRefusal, match="column"):
        check("SELECT count(*) AS ctid FROM videos WHERE ctid IS NOT NULL")
