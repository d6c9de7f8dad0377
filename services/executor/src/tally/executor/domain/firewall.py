"""The SQL firewall: untrusted SQL (written by an LLM) in, one capped SELECT out, or a refusal.

Everything is decided on sqlglot's parse (postgres dialect), never by matching strings, and
what runs is sqlglot's re-rendering of the tree that was checked, without comments. The
rules are allow-lists:

* the text is NFKC-stable (no fullwidth or other look-alike forms), has no control
  characters, and is ASCII outside plain string literals (no Cyrillic ``е`` in ``SELECT``);
* no dollar-quoted, escape (``E''``), bit, hex or Unicode strings, no ``$1`` placeholders,
  no semicolon except one at the very end;
* exactly one statement, a SELECT (CTEs and UNION/INTERSECT/EXCEPT of SELECTs allowed,
  ``WITH RECURSIVE`` refused since it can run without end);
* every node of the tree is of an allowed kind, every function in :data:`FUNCTIONS`, every
  cast to a type in :data:`TYPES`;
* tables are the catalog's (``videos``, ``video_snapshots``) or CTEs of the same query,
  never schema-qualified; columns are the catalog's or names the query defines, and each
  resolves to a table in scope (sqlglot's ``qualify``).

The accepted SQL gets ``LIMIT row_cap`` (a smaller literal LIMIT is kept) and is checked once
more, so the text that runs is itself one that passes.
"""

import unicodedata
from dataclasses import dataclass

from sqlglot import Dialect, TokenType, exp
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.qualify import qualify

from tally.common.errors import UserFacingError
from tally.executor.domain.catalog import CATALOG, CATALOG_COLUMNS, SCHEMA
from tally.executor.domain.sql_rules import (
    FORBIDDEN_TOKENS,
    FUNCTIONS,
    NODES,
    STATEMENT_WORDS,
    TYPES,
    UNIT_PARENTS,
    describe_node,
    function_name,
)

POSTGRES = Dialect.get_or_raise("postgres")
DEFAULT_ROW_CAP = 1000
"""Rows a firewalled query may return (the executor's ``firewall_max_rows`` default)."""

_QUERIES = (exp.Select, exp.Union, exp.Intersect, exp.Except)
_SYSTEM_COLUMNS = frozenset({"ctid", "xmin", "xmax", "cmin", "cmax", "tableoid", "oid"})
"""PostgreSQL's hidden columns of every table: never readable, even under an alias's name."""


class FirewallRefusal(UserFacingError):
    """The SQL firewall refused a query; ``message`` says why in plain words."""


@dataclass(frozen=True, slots=True)
class Checked:
    """SQL the firewall accepted: ``sql`` is the re-rendered statement (postgres, no comments)
    with ``LIMIT`` at most ``row_cap``; ``tables`` are the catalog tables it reads."""

    sql: str
    tables: frozenset[str]
    row_cap: int


def _refuse(why: str) -> FirewallRefusal:
    return FirewallRefusal(f"Refused: {why}")


def _sql(node: exp.Expr) -> str:
    return node.sql(dialect=POSTGRES)


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0][:160] if str(error) else type(error).__name__


def _not_sql(error: SqlglotError) -> FirewallRefusal:
    """A refusal for text sqlglot cannot read, pointing at where (not at sqlglot's internals)."""
    where = "an unterminated string or quoted name"
    if isinstance(error, ParseError) and error.errors:
        first = error.errors[0]
        where = f"near line {first.get('line')}, column {first.get('col')}"
    return _refuse(f"this is not valid PostgreSQL ({where}).")


def _screen_text(sql: str) -> None:
    if not sql.strip():
        raise _refuse("the query is empty.")
    if unicodedata.normalize("NFKC", sql) != sql:
        raise _refuse("the query contains look-alike Unicode characters (e.g. fullwidth letters).")
    if any(unicodedata.category(char) == "Cc" and char not in "\t\n\r" for char in sql):
        raise _refuse("the query contains control characters.")


def _screen_tokens(sql: str) -> None:
    try:
        tokens = POSTGRES.tokenize(sql)
    except SqlglotError as error:
        raise _not_sql(error) from error
    for position, token in enumerate(tokens):
        if token.token_type in FORBIDDEN_TOKENS:
            what = FORBIDDEN_TOKENS[token.token_type]
            raise _refuse(f"the query uses {what}, which is not allowed.")
        if token.token_type is TokenType.SEMICOLON and position != len(tokens) - 1:
            raise _refuse("the query has more than one statement (a semicolon in the middle).")
        if token.token_type is not TokenType.STRING and not token.text.isascii():
            raise _refuse(
                f"the query has non-ASCII characters outside string literals ({token.text!r})."
            )


def _statement(sql: str) -> exp.Query:
    try:
        trees = POSTGRES.parse(sql)
    except SqlglotError as error:
        raise _not_sql(error) from error
    # A comment after the final semicolon parses as a Semicolon holding only that comment.
    statements = [tree for tree in trees if tree and not isinstance(tree, exp.Semicolon)]
    if not statements:
        raise _refuse("the query has no statement in it.")
    if len(statements) > 1:
        raise _refuse(f"the query must be exactly one statement; it has {len(statements)}.")
    [statement] = statements
    if not isinstance(statement, _QUERIES):
        raise _refuse(f"only a single SELECT may run; {_statement_kind(statement)}.")
    return normalize_identifiers(statement, dialect=POSTGRES)


def _statement_kind(node: exp.Expr) -> str:
    if isinstance(node, exp.Command):
        word = f"{str(node.this).upper()} command"
    elif type(node) in STATEMENT_WORDS:
        word = f"{STATEMENT_WORDS[type(node)]} statement"
    else:
        return "this is not a SELECT statement"
    return f"this is {'an' if word[0] in 'AEIOU' else 'a'} {word}"


def _check_node(node: exp.Expr) -> None:
    if type(node) in STATEMENT_WORDS or isinstance(node, exp.Command):
        raise _refuse(f"only reading is allowed, and {_statement_kind(node)} inside the query.")
    if isinstance(node, exp.Func):
        if type(node) not in FUNCTIONS:
            name = function_name(node, POSTGRES)
            raise _refuse(f"the query uses the function {name}, which is not allowed.")
    elif type(node) not in NODES:
        raise _refuse(f"the query uses {describe_node(node)}, which is not allowed.")
    elif isinstance(node, exp.DataType) and node.this not in TYPES:
        raise _refuse(f"the query casts to the type {_sql(node)}, which is not allowed.")
    elif isinstance(node, exp.Var) and not isinstance(node.parent, UNIT_PARENTS):
        raise _refuse(f"the query uses the keyword {node.name}, which is not allowed here.")


def _check_with(statement: exp.Expr) -> set[str]:
    names: set[str] = set()
    for with_ in statement.find_all(exp.With):
        if with_.args.get("recursive"):
            raise _refuse("the query uses WITH RECURSIVE, which can run without end.")
    for cte in statement.find_all(exp.CTE):
        names.add(cte.alias_or_name)
    return names


def _check_tables(statement: exp.Expr, ctes: set[str]) -> frozenset[str]:
    read: set[str] = set()
    for table in statement.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            raise _refuse("the query reads from something that is not a table.")
        alias = table.args.get("alias")
        if isinstance(alias, exp.TableAlias) and alias.columns:
            raise _refuse(f"the query renames the columns of {table.name} (AS {_sql(alias)}).")
        if table.args.get("db") or table.args.get("catalog"):
            name = ".".join(part.name for part in table.parts)
            raise _refuse(f"the query names the schema-qualified table {name}.")
        if table.name not in CATALOG and table.name not in ctes:
            raise _refuse(f"the query reads the table {table.name}, which is not in the catalog.")
        if table.name in CATALOG and table.name not in ctes:
            read.add(table.name)
    return frozenset(read)


def _defined_names(statement: exp.Expr) -> set[str]:
    names = {alias.alias for alias in statement.find_all(exp.Alias)}
    for alias in statement.find_all(exp.TableAlias):
        names.add(alias.name)
        names.update(column.name for column in alias.columns)
    return names


def _check_columns(statement: exp.Expr) -> None:
    known = (CATALOG_COLUMNS | _defined_names(statement)) - _SYSTEM_COLUMNS
    for column in statement.find_all(exp.Column):
        if column.args.get("db") or column.args.get("catalog"):
            raise _refuse(f"the query names the column {_sql(column)} with a schema.")
        if not isinstance(column.this, exp.Star) and column.name not in known:
            raise _refuse(f"the query uses the column {column.name}, which is not in the catalog.")
    try:
        qualify(statement.copy(), schema=SCHEMA, dialect=POSTGRES, validate_qualify_columns=True)
    except SqlglotError as error:
        reason = _first_line(error)
        raise _refuse(f"a column does not match the tables in the query ({reason}).") from error


def _validated(sql: str) -> tuple[exp.Query, frozenset[str]]:
    _screen_text(sql)
    _screen_tokens(sql)
    statement = _statement(sql)
    for node in statement.walk():
        _check_node(node)
    tables = _check_tables(statement, _check_with(statement))
    _check_columns(statement)
    return statement, tables


def _int_literal(node: exp.Expr | None) -> int | None:
    if isinstance(node, exp.Literal) and not node.is_string and str(node.this).isdigit():
        return int(str(node.this))
    return None


def _capped(statement: exp.Query, row_cap: int) -> exp.Query:
    limit = statement.args.get("limit")
    current = _int_literal(limit.expression) if isinstance(limit, exp.Limit) else None
    if limit is not None and current is None:
        statement = exp.select("*").from_(statement.subquery("capped"))
    cap = row_cap if current is None else min(current, row_cap)
    statement.set("limit", exp.Limit(expression=exp.Literal.number(cap)))
    return statement


def check(sql: str, *, row_cap: int = DEFAULT_ROW_CAP) -> Checked:
    """Accept ``sql`` as one read-only SELECT over the catalog, or refuse it.

    Returns the statement re-rendered by sqlglot (postgres, comments dropped) with a LIMIT of
    at most ``row_cap`` rows. Raises :class:`FirewallRefusal` (a UserFacingError whose message
    starts "Refused: " and says why) for anything else, parse errors included.
    """
    statement, tables = _validated(sql)
    rendered = _capped(statement, row_cap).sql(dialect=POSTGRES, comments=False)
    _validated(rendered)
    return Checked(sql=rendered, tables=tables, row_cap=row_cap)
