"""The firewall's allow-lists: sqlglot node kinds, functions, cast types, and the tokens and
statements it refuses, each with the words a refusal uses."""

from sqlglot import Dialect, TokenType, exp
from sqlglot.expressions import DType

NODES: frozenset[type[exp.Expr]] = frozenset(
    {
        *(exp.Select, exp.Union, exp.Intersect, exp.Except, exp.With, exp.CTE, exp.Subquery),
        *(exp.From, exp.Join, exp.Where, exp.Group, exp.Having, exp.Order, exp.Ordered),
        *(exp.Limit, exp.Offset, exp.Distinct, exp.Window, exp.Filter, exp.WithinGroup),
        *(exp.Table, exp.TableAlias, exp.Alias, exp.Column, exp.Identifier, exp.Star),
        *(exp.Literal, exp.Boolean, exp.Null, exp.Var, exp.Interval, exp.DataType, exp.Paren),
        *(exp.Tuple, exp.Not, exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE),
        *(exp.NullSafeEQ, exp.NullSafeNEQ, exp.Is, exp.In, exp.Between, exp.Like, exp.ILike),
        *(exp.Add, exp.Sub, exp.Mul, exp.Div, exp.Mod, exp.Neg, exp.DPipe),
    }
)
"""Kinds of syntax a query may contain (functions are checked against FUNCTIONS instead)."""

FUNCTIONS: frozenset[type[exp.Func]] = frozenset(
    {
        *(exp.Count, exp.Sum, exp.Avg, exp.Min, exp.Max, exp.Stddev, exp.StddevPop),
        *(exp.StddevSamp, exp.Variance, exp.PercentileCont, exp.PercentileDisc),
        *(exp.RowNumber, exp.Rank, exp.DenseRank),
        *(exp.Coalesce, exp.Nullif, exp.Greatest, exp.Least, exp.Case, exp.If, exp.Cast),
        *(exp.TimestampTrunc, exp.DateTrunc, exp.Extract, exp.CurrentTimestamp, exp.CurrentDate),
        *(exp.Abs, exp.Round, exp.Floor, exp.Ceil, exp.Sqrt, exp.Pow, exp.Lower, exp.Upper),
        *(exp.Length, exp.And, exp.Or, exp.Exists),
    }
)
"""Functions (and function-like syntax: CASE, CAST, AND, EXISTS) a query may call. None of
them reads files, sleeps, touches settings or other sessions, or makes rows out of nothing."""

_TYPE = DType
TYPES: frozenset[DType] = frozenset(
    {
        *(_TYPE.SMALLINT, _TYPE.INT, _TYPE.BIGINT, _TYPE.DECIMAL, _TYPE.FLOAT, _TYPE.DOUBLE),
        *(_TYPE.TEXT, _TYPE.VARCHAR, _TYPE.CHAR, _TYPE.BOOLEAN, _TYPE.UUID, _TYPE.DATE),
        *(_TYPE.TIMESTAMP, _TYPE.TIMESTAMPTZ, _TYPE.INTERVAL),
    }
)
"""Types a query may cast to (no ``regclass``/``regproc`` or user-defined types)."""

UNIT_PARENTS = (exp.Extract, exp.TimestampTrunc, exp.DateTrunc, exp.Interval)
"""Bare keywords (``DAY``, ``EPOCH``) are allowed only as units inside these."""

_SPECIAL_STRINGS = "an escape or special string literal (E'…', B'…', X'…', U&'…', N'…')"
FORBIDDEN_TOKENS: dict[TokenType, str] = {
    TokenType.HEREDOC_STRING: "a dollar-quoted string ($$…$$)",
    TokenType.BYTE_STRING: _SPECIAL_STRINGS,
    TokenType.BIT_STRING: _SPECIAL_STRINGS,
    TokenType.HEX_STRING: _SPECIAL_STRINGS,
    TokenType.UNICODE_STRING: _SPECIAL_STRINGS,
    TokenType.NATIONAL_STRING: _SPECIAL_STRINGS,
    TokenType.RAW_STRING: _SPECIAL_STRINGS,
    TokenType.PARAMETER: "a parameter placeholder ($1)",
    TokenType.PLACEHOLDER: "a parameter placeholder",
    TokenType.SESSION_PARAMETER: "a session parameter",
}
"""Tokens refused before parsing, with how a refusal names them."""

STATEMENT_WORDS: dict[type[exp.Expr], str] = {
    exp.Insert: "INSERT",
    exp.Update: "UPDATE",
    exp.Delete: "DELETE",
    exp.Merge: "MERGE",
    exp.Create: "CREATE",
    exp.Drop: "DROP",
    exp.Alter: "ALTER",
    exp.TruncateTable: "TRUNCATE",
    exp.Copy: "COPY",
    exp.Grant: "GRANT",
    exp.Revoke: "REVOKE",
    exp.Set: "SET",
    exp.Transaction: "BEGIN",
    exp.Commit: "COMMIT",
    exp.Rollback: "ROLLBACK",
}
"""Statements that write, change the schema or permissions, or touch the session."""

_DESCRIPTIONS: dict[type[exp.Expr], str] = {
    exp.Lock: "a row lock (FOR UPDATE / FOR SHARE)",
    exp.Into: "SELECT … INTO (it creates a table)",
    exp.Placeholder: "a parameter placeholder",
    exp.Parameter: "a parameter placeholder",
    exp.ObjectIdentifier: "an object identifier type (regclass, regproc, oid…)",
    exp.Values: "a VALUES list",
    exp.Lateral: "LATERAL",
    exp.TableSample: "TABLESAMPLE",
    exp.Fetch: "FETCH FIRST (use LIMIT)",
    exp.ColumnDef: "a column definition list",
    exp.Dot: "a dotted name",
}


def describe_node(node: exp.Expr) -> str:
    """How a refusal names a kind of syntax ("a row lock (FOR UPDATE / FOR SHARE)")."""
    return _DESCRIPTIONS.get(type(node), f"the SQL construct {node.key.upper()}")


def function_name(node: exp.Func, dialect: Dialect) -> str:
    """The name a function is written with in SQL, lower-case (``pg_sleep``)."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    rendered = node.sql(dialect=dialect).split("(", 1)[0].strip()
    return (rendered if rendered.isidentifier() else node.sql_name()).lower()
