"""The firewall against SQL written to read another chat's data: every payload of
``cross_chat_sql.json`` refused with its reason, and hypothesis-generated CTE shadowing
(CTEs named like the chat tables or at random, nested at random in WITHs, subqueries, set
operations, derived tables and scalar subqueries) bound exactly as PostgreSQL binds it.

The generator keeps its own account of which CTEs each reference can see (PostgreSQL,
"WITH Queries": a CTE is visible to the CTEs after it, its query and the scopes beneath
them, the nearest WITH winning), so it knows, independently of the firewall, whether a query
reads a real table outside the catalog; and PostgreSQL itself (``EXPLAIN``, nothing runs)
judges both on queries whose stray references name tables that do not exist.
"""

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tally.executor.domain.catalog import CATALOG, DATABASE_TABLES, is_database_name
from tally.executor.domain.firewall import FirewallRefusal, check
from tally.infra.db.session import asyncpg_dsn

HERE = Path(__file__).parent
CORPUS: dict[str, list[list[str]]] = json.loads((HERE / "cross_chat_sql.json").read_text("utf-8"))
PAYLOADS = [(family, sql, reason) for family, cases in CORPUS.items() for sql, reason in cases]
OTHER_TABLES = sorted(DATABASE_TABLES - CATALOG.keys())
"""Every table of the database the LLM's SQL may not read (chat tables, questions, users...)."""


def test_the_corpus_covers_every_position_and_is_distinct() -> None:
    """More than 100 distinct payloads in the families the issue names."""
    assert len({sql for _, sql, _ in PAYLOADS}) == len(PAYLOADS) >= 100
    assert len(CORPUS["CTE shadowing, in every position"]) >= 25


@pytest.mark.parametrize(("family", "sql", "reason"), PAYLOADS)
def test_each_payload_is_refused_with_its_reason(family: str, sql: str, reason: str) -> None:
    """The refusal names what gives the payload away (the table it would read, the CTE name
    it would shadow, the function, the schema...)."""
    with pytest.raises(FirewallRefusal) as refusal:
        check(sql)
    assert reason in refusal.value.message


@dataclass(frozen=True)
class Built:
    """A generated query (one output column ``n``) and what the generator knows of it:
    ``tables`` the real tables its references bind to, ``ctes`` every CTE name it defines."""

    sql: str
    tables: frozenset[str] = frozenset()
    ctes: tuple[str, ...] = ()


def _combined(sql: str, *parts: Built, ctes: tuple[str, ...] = ()) -> Built:
    """``sql`` made of ``parts``: the tables and CTE names of all of them."""
    tables = frozenset().union(*(part.tables for part in parts))
    return Built(sql, tables, ctes + tuple(name for part in parts for name in part.ctes))


CATALOG_NAMES = st.sampled_from(sorted(CATALOG))
RANDOM_NAMES = st.one_of(
    st.sampled_from(["q_a", "q_b", "q_c", "q_d"]), st.from_regex(r"q_[a-z]{1,4}", fullmatch=True)
)
"""Random names: one of a few (so that they meet) or any."""
ANY_NAMES = st.one_of(CATALOG_NAMES, st.sampled_from(OTHER_TABLES), RANDOM_NAMES)
"""The catalog's names, another table's, random ones: a third each."""
SPELLINGS: list[Callable[[str], str]] = [str, str.upper, lambda name: f'"{name}"']
"""Ways to write a name PostgreSQL folds to the same one: as is, upper case, quoted."""


@dataclass(frozen=True)
class Names:
    """Where a query's names come from: ``tables`` for a reference no visible CTE answers,
    ``ctes`` for the CTEs it defines."""

    tables: st.SearchStrategy[str]
    ctes: st.SearchStrategy[str]


HOSTILE = Names(tables=ANY_NAMES, ctes=ANY_NAMES)
"""References to any table, CTEs named like any table: shadowing in every position."""
BENIGN = Names(tables=CATALOG_NAMES, ctes=st.one_of(RANDOM_NAMES, RANDOM_NAMES, CATALOG_NAMES))
"""References to the catalog or to CTEs, CTEs named at random (now and then like the
catalog's): mostly queries that should pass."""


@st.composite
def reference(draw: st.DrawFn, visible: frozenset[str], names: Names) -> Built:
    """``SELECT count(*) AS n FROM <name>``, half the time a visible CTE's name: a CTE when
    one of that name is visible, else the real table."""
    near = st.sampled_from(sorted(visible)) if visible else names.tables
    name = draw(st.one_of(near, names.tables))
    spelled = draw(st.sampled_from(SPELLINGS))(name)
    tables = frozenset() if name in visible else frozenset({name})
    return Built(f"SELECT count(*) AS n FROM {spelled}", tables)


@st.composite
def with_query(draw: st.DrawFn, visible: frozenset[str], depth: int, names: Names) -> Built:
    """``WITH c1 AS (...), c2 AS (...) <main>``: each CTE sees the ones before it, the main
    query all of them (names differ within one WITH, as PostgreSQL requires; they may repeat
    across WITHs)."""
    defined = tuple(draw(st.lists(names.ctes, min_size=1, max_size=3, unique_by=str.lower)))
    parts, bodies, seen = [], [], set(visible)
    for name in defined:
        body = draw(query(frozenset(seen), depth - 1, names))
        parts.append(f"{draw(st.sampled_from(SPELLINGS))(name)} AS ({body.sql})")
        bodies.append(body)
        seen.add(name)
    main = draw(query(frozenset(seen), depth - 1, names))
    body = main.sql
    if body.startswith("WITH"):  # one WITH may not follow another: nest it
        body = f"SELECT count(*) AS n FROM ({body}) AS w{depth}"
    return _combined(f"WITH {', '.join(parts)} {body}", *bodies, main, ctes=defined)


@st.composite
def nested(draw: st.DrawFn, visible: frozenset[str], depth: int, names: Names) -> Built:
    """A query holding others: a table read beside a subquery in WHERE or EXISTS, a scalar
    subquery, a derived table, a join of two, a set operation."""
    form = draw(st.sampled_from(["in", "exists", "scalar", "derived", "join", "union"]))
    inner = draw(query(visible, depth - 1, names))
    if form in ("in", "exists"):
        beside = draw(reference(visible, names))
        where = f"1 IN ({inner.sql})" if form == "in" else f"EXISTS ({inner.sql})"
        return _combined(f"{beside.sql} WHERE {where}", beside, inner)
    if form == "derived":
        return _combined(f"SELECT count(*) AS n FROM ({inner.sql}) AS d{depth}", inner)
    other = draw(query(visible, depth - 1, names))
    sql = {
        "scalar": f"SELECT ({inner.sql}) + ({other.sql}) AS n",
        "join": f"SELECT count(*) AS n FROM ({inner.sql}) AS a{depth}"
        f" CROSS JOIN ({other.sql}) AS b{depth}",
        "union": f"({inner.sql}) UNION ALL ({other.sql})",
    }[form]
    return _combined(sql, inner, other)


@st.composite
def query(draw: st.DrawFn, visible: frozenset[str], depth: int, names: Names) -> Built:
    """A query of at most ``depth`` levels, the CTEs in ``visible`` in scope."""
    kind = draw(st.sampled_from(["reference", "with", "nested", "nested"])) if depth else ""
    if kind == "with":
        return draw(with_query(visible, depth, names))
    if kind == "nested":
        return draw(nested(visible, depth, names))
    return draw(reference(visible, names))


SCOPING = Names(tables=st.one_of(CATALOG_NAMES, RANDOM_NAMES), ctes=RANDOM_NAMES)
"""References to the catalog or to random names, CTEs named at random: a reference no visible
CTE answers names a table that does not exist, so PostgreSQL says which bind to a table."""
QUERIES = st.sampled_from([HOSTILE, BENIGN]).flatmap(lambda names: query(frozenset(), 3, names))
"""Generated queries, half hostile, half benign, up to three levels deep."""


def _names_refused(ctes: tuple[str, ...]) -> bool:
    lowered = [name.lower() for name in ctes]
    reserved = any(is_database_name(name) or name in CATALOG for name in lowered)
    return reserved or len(set(lowered)) < len(lowered)


@settings(max_examples=600, deadline=None)
@given(QUERIES)
def test_cte_shadowing_never_reads_another_table(built: Built) -> None:
    """Whatever the names and the nesting: a query binding any reference to a table outside
    the catalog is refused for reading it (the scopes alone catch it, before the rule on CTE
    names); one that does not is refused only for a CTE name that repeats or is a table's,
    and otherwise accepted, reading exactly the catalog tables it names."""
    leaked = built.tables - CATALOG.keys()
    try:
        checked = check(built.sql)
    except FirewallRefusal as refusal:
        if leaked:
            assert "reads the table" in refusal.message, refusal.message
            assert any(f"table {name}," in refusal.message for name in leaked)
        else:
            assert _names_refused(built.ctes), refusal.message
        return
    assert not leaked and not _names_refused(built.ctes)
    assert checked.tables == built.tables


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="module")
def connection(loop: asyncio.AbstractEventLoop, database_url: str) -> Iterator[asyncpg.Connection]:
    """A superuser connection to this run's database (EXPLAIN only: nothing runs)."""
    connection = loop.run_until_complete(asyncpg.connect(**asyncpg_dsn(database_url)))
    yield connection
    loop.run_until_complete(connection.close())


async def _binds_a_missing_table(connection: asyncpg.Connection, sql: str) -> bool:
    """True when PostgreSQL, planning ``sql``, binds a reference to a table that does not
    exist (SQLSTATE 42P01)."""
    try:
        await connection.execute(f"EXPLAIN {sql}")
    except asyncpg.UndefinedTableError:
        return True
    return False


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(built=query(frozenset(), 3, SCOPING))
def test_the_firewall_binds_names_as_postgresql_does(
    built: Built, loop: asyncio.AbstractEventLoop, connection: asyncpg.Connection
) -> None:
    """PostgreSQL is the judge: it binds some reference to a (missing) real table exactly
    when the firewall refuses the query for reading a table, and when the generator says so."""
    missing = loop.run_until_complete(_binds_a_missing_table(connection, built.sql))
    try:
        check(built.sql)
        refused_for_a_table = False
    except FirewallRefusal as refusal:
        refused_for_a_table = "reads the table" in refusal.message
    assert missing == refused_for_a_table == bool(built.tables - CATALOG.keys()), built.sql
