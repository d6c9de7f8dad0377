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
* every table reference is bound as PostgreSQL binds it (sqlglot's scope analysis, see
  :mod:`tally.executor.domain.scopes`): to a CTE only where that CTE is visible, else to
  the real table, which must be the catalog's (``videos``, ``video_snapshots``); never
  schema-qualified. CTE names are unique in the query and never a table's of the database;
* every column resolves (sqlglot's ``qualify``, then checked scope by scope) to a catalog
  column of a catalog table or an output column of a CTE or subquery in scope; system
  columns (``ctid``, ``xmin``...) are refused.

The accepted SQL gets ``LIMIT row_cap`` (a smaller literal LIMIT is kept) and is checked once
more, so the text that runs is itself one that passes.
"""

import unicodedata
from dataclasses import dataclass

from sqlglot import Dialect, TokenType, exp
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers
from sqlglot.optimizer.qualify import qualify

from tally.executor.domain import scopes
from tally.executor.domain.catalog import CATALOG, SCHEMA, is_database_name
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
from tally.infra.errors import UserFacingError

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


def _check_table_node(table: exp.Table) -> None:
    if not isinstance(table.this, exp.Identifier):
        raise _refuse("the query reads from something that is not a table.")
    alias = table.args.get("alias")
    if isinstance(alias, exp.TableAlias) and alias.columns:
        raise _refuse(f"the query renames the columns of {table.name} (AS {_sql(alias)}).")
    if table.args.get("db") or table.args.get("catalog"):
        name = ".".join(part.name for part in table.parts)
        raise _refuse(f"the query names the schema-qualified table {name}.")


def _bound(statement: exp.Query) -> list[scopes.Binding]:
    try:
        bound = scopes.bindings(statement)
    except SqlglotError as error:
        raise _refuse(f"the query's tables cannot be resolved ({_first_line(error)}).") from error
    if unplaced := scopes.outside_scopes(statement, bound):
        raise _refuse(f"the query reads {unplaced[0].name} where no table can be resolved.")
    return bound


def _check_tables(statement: exp.Query) -> frozenset[str]:
    """The catalog tables ``statement`` reads; refuses any reference PostgreSQL would bind
    to a real table outside the catalog (a CTE counts only where it is visible)."""
    for table in statement.find_all(exp.Table):
        _check_table_node(table)
    read = {binding.table.name for binding in _bound(statement) if binding.reads_table}
    for name in sorted(read - CATALOG.keys()):
        raise _refuse(
            f"the query reads the table {name}, which is not in the catalog"
            f" (only {' and '.join(CATALOG)} may be read)."
        )
    return frozenset(read)


def _check_ctes(statement: exp.Query) -> None:
    if any(with_.args.get("recursive") for with_ in statement.find_all(exp.With)):
        raise _refuse("the query uses WITH RECURSIVE, which can run without end.")
    seen: set[str] = set()
    for name in scopes.cte_names(statement):
        if is_database_name(name) or name.lower() in CATALOG:
            raise _refuse(f"the query names a CTE {name}, like a table of the database.")
        if name.lower() in seen:
            raise _refuse(f"the query defines the CTE {name} more than once.")
        seen.add(name.lower())


def _check_column_names(statement: exp.Query) -> None:
    for column in statement.find_all(exp.Column):
        if column.args.get("db") or column.args.get("catalog"):
            raise _refuse(f"the query names the column {_sql(column)} with a schema.")
        if column.name in _SYSTEM_COLUMNS:
            raise _refuse(f"the query uses the column {column.name}, a system column.")


def _qualified(statement: exp.Query) -> exp.Query:
    """A copy of ``statement`` with every column qualified by its FROM item (sqlglot's
    ``qualify`` against the catalog), or a refusal naming the first that has none."""
    try:
        qualified = qualify(
            statement.copy(), schema=SCHEMA, dialect=POSTGRES, validate_qualify_columns=True
        )
    except SqlglotError as error:
        reason = _first_line(error)
        raise _refuse(f"a column does not match the tables in the query ({reason}).") from error
    if not isinstance(qualified, exp.Query):
        raise _refuse("the query is no longer a query once its columns are resolved.")
    return qualified


def _check_columns(statement: exp.Query) -> None:
    """Every column is a catalog column of a catalog table in scope, or an output column of a
    CTE or subquery in scope; system columns and schema-qualified columns are refused."""
    _check_column_names(statement)
    qualified = _qualified(statement)
    if whole_row := qualified.find(exp.TableColumn):
        raise _refuse(f"the query reads the whole row of {whole_row.name}; name its columns.")
    try:
        stray = next(scopes.unresolved_columns(qualified, CATALOG), None)
    except SqlglotError as error:
        raise _refuse(f"the query's columns cannot be resolved ({_first_line(error)}).") from error
    if stray is not None:
        raise _refuse(
            f"the query uses {_sql(stray)}, which is no column of a table, CTE or subquery"
            " in its scope."
        )


def _validated(sql: str) -> tuple[exp.Query, frozenset[str]]:
    _screen_text(sql)
    _screen_tokens(sql)
    statement = _statement(sql)
    for node in statement.walk():
        _check_node(node)
    tables = _check_tables(statement)
    _check_ctes(statement)
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
