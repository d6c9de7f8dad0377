"""Where each name in a query points, as PostgreSQL binds it, by sqlglot's scope analysis
(:mod:`sqlglot.optimizer.scope`).

A table reference names a CTE only where that CTE is visible: inside its own WITH, in the
CTEs after it and the query the WITH belongs to, and in the scopes nested beneath them, the
nearest WITH winning (PostgreSQL, "WITH Queries"; sqlglot's ``Scope.cte_sources`` at that
point). Any other unqualified name is a real table. A column belongs to a FROM item (a table,
a CTE, a subquery) of its own query level or of an enclosing one.

These functions report; the firewall (:mod:`tally.executor.domain.firewall`) refuses.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, find_all_in_scope, traverse_scope

Columns = Mapping[str, Mapping[str, str]]
"""Real table name -> column name -> type (the firewall's catalog)."""


@dataclass(frozen=True, slots=True)
class Binding:
    """One table reference and what it binds to: ``cte`` is the CTE's scope, or None when
    the reference reads the real table ``table.name``."""

    table: exp.Table
    cte: Scope | None

    @property
    def reads_table(self) -> bool:
        return self.cte is None


def bindings(statement: exp.Query) -> list[Binding]:
    """Every table reference of ``statement`` in every scope, bound as PostgreSQL binds it.

    Raises sqlglot's ``OptimizeError`` when the scopes cannot be built (e.g. an alias used
    twice in one FROM).
    """
    found = []
    for scope in traverse_scope(statement):
        for table in scope.tables:
            cte = None if table.args.get("db") else scope.cte_sources.get(table.name)
            found.append(Binding(table, cte if isinstance(cte, Scope) and cte.is_cte else None))
    return found


def outside_scopes(statement: exp.Query, bound: list[Binding]) -> list[exp.Table]:
    """The table nodes of ``statement`` that no scope binds (a table in a position sqlglot's
    scopes do not reach): the firewall cannot say what they read."""
    seen = {id(binding.table) for binding in bound}
    return [table for table in statement.find_all(exp.Table) if id(table) not in seen]


def cte_names(statement: exp.Query) -> list[str]:
    """The name of every CTE of ``statement``, in every WITH, in order (repeats kept)."""
    return [cte.alias_or_name for cte in statement.find_all(exp.CTE)]


def _source(scope: Scope, name: str) -> exp.Table | Scope | None:
    """The FROM item ``name`` of ``scope`` or of the nearest enclosing scope that has one."""
    level: Scope | None = scope
    while level is not None:
        if name in level.selected_sources:
            return level.selected_sources[name][1]
        level = level.parent
    return None


def _output_columns(source: exp.Table | Scope, catalog: Columns) -> Mapping[str, object]:
    if isinstance(source, Scope):
        expression = source.expression
        named = expression.named_selects if isinstance(expression, exp.Query) else []
        return dict.fromkeys(source.outer_columns or named)
    return catalog.get(source.name, {})


def _is_order_alias(column: exp.Column, scope: Scope) -> bool:
    """An unqualified ``ORDER BY n`` naming an output column ``n`` of the scope's query."""
    order = column.find_ancestor(exp.Order)
    query = scope.expression
    return (
        order is not None
        and order.parent is query
        and isinstance(query, exp.Query)
        and column.name in query.named_selects
    )


def _resolves(column: exp.Column, scope: Scope, catalog: Columns) -> bool:
    if not column.table:
        return _is_order_alias(column, scope)
    source = _source(scope, column.table)
    if source is None:
        return False
    return isinstance(column.this, exp.Star) or column.name in _output_columns(source, catalog)


def unresolved_columns(qualified: exp.Query, catalog: Columns) -> Iterator[exp.Column]:
    """The columns of ``qualified`` (a query sqlglot's ``qualify`` has qualified, so every
    column names its FROM item) that do not belong to a catalog column of a catalog table or
    to an output column of a CTE or subquery in scope: an unknown qualifier, a whole-row
    reference (``SELECT v FROM videos v``), a column the source does not have.

    Raises sqlglot's ``OptimizeError`` when the scopes cannot be built.
    """
    for scope in traverse_scope(qualified):
        for column in find_all_in_scope(scope.expression, exp.Column):
            if not _resolves(column, scope, catalog):
                yield column
