"""The statements chat events' raw rows are written with, and the packing of every write
statement's parameters (SQLAlchemy Core, built once); the rollups' statements are in
:mod:`tally.chatstore.write.rollup_statements`.

A batch's rows travel as one array per column and are turned back into rows with
``unnest($1::bigint[], $2::timestamptz[], …) AS batch(col, …)``. The statement text is the
same for any number of rows, so asyncpg prepares it once per connection (a multi-row
``VALUES`` list is a new statement for every row count), and there is no bind-parameter
limit to chunk under: each statement binds one parameter per column.

Upserts are ``INSERT … SELECT … FROM unnest(…) ON CONFLICT …``: raw rows ``DO NOTHING …
RETURNING`` their keys (only those count in the rollups), chats and users keep the earliest
first-seen and the latest of the rest.
"""

from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    String,
    Table,
    Text,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    union,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, Insert, insert
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import TableValuedAlias
from sqlalchemy.sql.visitors import InternalTraversal, _TraverseInternalsType

from tally.chatstore.tables import (
    ADMIN_AUDIT,
    CHATS,
    MEMBER_COUNTS,
    MEMBER_EVENTS,
    MESSAGE_REACTION_TOTALS,
    MESSAGE_REACTIONS,
    MESSAGES,
    REACTION_COUNTS,
    REACTIONS,
    USERS,
    Row,
)

CHAT_COLUMNS = ("chat_id", "chat_type", "title", "first_seen_at", "updated_at")
SETTINGS_COLUMNS = ("chat_id", "timezone", "store_text", "retention_days")
USER_COLUMNS: tuple[str, ...] = ("user_id", "username", "first_name", "last_name", "is_bot")
USER_COLUMNS += ("first_seen_at", "last_seen_at")
EDIT_COLUMNS: tuple[str, ...] = ("chat_id", "message_id", "sent_at", "text_length")
EDIT_COLUMNS += ("word_count", "text", "edited_at")
DELETION_COLUMNS = ("chat_id", "message_id", "deleted_at")
MEMBER_EVENT_COLUMNS = tuple(c.name for c in MEMBER_EVENTS.c)
MEMBER_COUNT_COLUMNS = tuple(c.name for c in MEMBER_COUNTS.c)
REACTION_KEY = ("chat_id", "message_id", "user_id")
REACTION_COLUMNS = tuple(c.name for c in REACTIONS.c)
COUNTS_KEY = ("chat_id", "message_id")
COUNTS_COLUMNS = tuple(c.name for c in REACTION_COUNTS.c)
ORIGINALS_KEY = ("chat_id", "message_id")
TOTALS_COLUMNS = tuple(c.name for c in MESSAGE_REACTIONS.c)
MESSAGE_TOTALS_COLUMNS = tuple(c.name for c in MESSAGE_REACTION_TOTALS.c)


def _array_type(column: Any) -> ARRAY[Any]:
    """The array type a column's values travel in: strings as ``text[]``, since an explicit
    cast to ``varchar(n)`` would cut a value that is too long instead of refusing it."""
    return ARRAY(Text if isinstance(column.type, String) else column.type)


class _Row(ColumnElement[Any]):
    """Row ``index`` (from 1) of a two-dimensional array, as the slice ``(array)[i:i]``
    (``unnest`` reads its values in order)."""

    inherit_cache = True
    _traverse_internals: _TraverseInternalsType = [  # noqa: RUF012  # SQLAlchemy's own declaration
        ("array", InternalTraversal.dp_clauseelement),
        ("index", InternalTraversal.dp_plain_obj),
    ]

    def __init__(self, array: ColumnElement[Any], index: int) -> None:
        self.array, self.index, self.type = array, index, array.type


@compiles(_Row)
def _render_row(element: _Row, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.array, **kw)})[{element.index}:{element.index}]"


_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it untyped
PACKS: dict[str, tuple[str, ...]] = {}
"""Each two-dimensional parameter of a :func:`batch_of` statement -> the keys of its columns in
:data:`Columns` (``[prefix]a_<col>``), in order."""


def batch_of(
    table: Table, names: Sequence[str], alias: str = "batch", prefix: str = ""
) -> TableValuedAlias:
    """``unnest(…) AS alias(col, …)``, typed like ``table``'s columns. The columns of one
    array type travel as the rows of one two-dimensional array, ``:p_<col>__<col>…``
    (``unnest((:p::bigint[])[1:1], (:p::bigint[])[2:2], …)``), a column alone in its type as
    ``:a_<col>``: asyncpg checks each element of an array's first row for being a nested
    array, not those of the other rows (issue 17: those checks were ~14 % of ingest's CPU).
    Every parameter name starts with ``prefix`` (several batches in one statement, see
    :data:`~tally.chatstore.write.rollup_statements.UPSERT_ROLLUPS`). Bind the parameters with
    :func:`packed`."""
    types = {name: _array_type(table.c[name]) for name in names}
    kinds: dict[str, list[str]] = {}
    for name in names:
        kinds.setdefault(str(types[name].compile(dialect=_DIALECT)), []).append(name)
    arrays: list[ColumnElement[Any]] = []
    for name in names:
        together = kinds[str(types[name].compile(dialect=_DIALECT))]
        if len(together) == 1:
            arrays.append(cast(bindparam(f"{prefix}a_{name}"), types[name]))
            continue
        param = f"{prefix}p_" + "__".join(together)
        PACKS[param] = tuple(f"{prefix}a_{n}" for n in together)
        arrays.append(_Row(cast(bindparam(param), types[name]), together.index(name) + 1))
    return func.unnest(*arrays).table_valued(*names).render_derived(name=alias)


Columns = dict[str, list[Any]]
"""A batch's values per column (``a_<column>`` -> that column's values, one per row): what
:func:`packed` turns into the parameters of a :func:`batch_of` statement."""


def arrays(rows: Sequence[Row], names: Sequence[str]) -> Columns:
    """``rows`` as one list per column (see :data:`Columns`)."""
    return {f"a_{name}": list(map(itemgetter(name), rows)) for name in names}


def prefixed(prefix: str, names: Sequence[str], rows: Sequence[Row]) -> dict[str, Any]:
    """:func:`arrays` of ``rows``, keys named with ``prefix``; each None when there are no
    rows (a statement of several batches, none from this one)."""
    return {f"{prefix}a_{n}": list(map(itemgetter(n), rows)) if rows else None for n in names}


def key_arrays(names: Sequence[str], keys: Iterable[tuple[Any, ...]]) -> Columns:
    """Key tuples (values of ``names``, in order) as one list per column (see :data:`Columns`),
    no dict made per key."""
    found = list(keys)
    if not found:
        return {f"a_{name}": [] for name in names}
    return {f"a_{n}": list(c) for n, c in zip(names, zip(*found, strict=True), strict=True)}


_PACKED_BY: dict[int, tuple[Any, tuple[str, ...]]] = {}


def packed(statement: Any, columns: Columns) -> dict[str, Any]:
    """The parameters of ``statement`` (built with :func:`batch_of`) for ``columns``: the
    columns of each of its two-dimensional parameters as that parameter's rows (None when
    the columns are None: a batch of no rows, see
    :func:`~tally.chatstore.write.rollup_statements.rollup_parameters`); the other columns as
    they are. Raises KeyError when a column of ``statement`` is missing."""
    found = _PACKED_BY.get(id(statement))
    if found is None or found[0] is not statement:
        binds = statement.compile(dialect=_DIALECT).binds
        found = _PACKED_BY[id(statement)] = (statement, tuple(p for p in binds if p in PACKS))
    bound: dict[str, Any] = dict(columns)
    for param in found[1]:
        rows = [bound.pop(key) for key in PACKS[param]]
        bound[param] = None if rows[0] is None else rows
    return bound


async def execute_batch(connection: AsyncConnection, statement: Any, columns: Columns) -> Any:
    """Run ``statement`` (built with :func:`batch_of`) for ``columns`` (see :func:`packed`);
    its result. Raises what ``connection.execute`` raises."""
    return await connection.execute(statement, packed(statement, columns))


def insert_batch(table: Table, names: Sequence[str], prefix: str = "") -> Insert:
    """``INSERT INTO table (names) SELECT names FROM`` :func:`batch_of` ``(table, names)``,
    parameters named with ``prefix``; add the ``ON CONFLICT`` clause to it."""
    batch = batch_of(table, names, prefix=prefix)
    return insert(table).from_select(list(names), select(*(batch.c[name] for name in names)))


def _when_newer(statement: Insert, table: Table, moment: str, value: Any, name: str) -> Any:
    """``value`` when the incoming row's ``moment`` is not older than the stored one's, else
    the stored ``name`` (an old event replayed after a newer one does not undo it)."""
    return case((statement.excluded[moment] >= table.c[moment], value), else_=table.c[name])


def _upsert_chats() -> Insert:
    statement = insert_batch(CHATS, CHAT_COLUMNS)
    excluded = statement.excluded
    title = func.coalesce(excluded.title, CHATS.c.title)
    return statement.on_conflict_do_update(
        index_elements=["chat_id"],
        set_={
            "chat_type": _when_newer(
                statement, CHATS, "updated_at", excluded.chat_type, "chat_type"
            ),
            "title": _when_newer(statement, CHATS, "updated_at", title, "title"),
            "first_seen_at": func.least(CHATS.c.first_seen_at, excluded.first_seen_at),
            "updated_at": func.greatest(CHATS.c.updated_at, excluded.updated_at),
        },
    )


def _upsert_users() -> Insert:
    statement = insert_batch(USERS, USER_COLUMNS)
    excluded = statement.excluded
    names = ("username", "first_name", "last_name", "is_bot")
    return statement.on_conflict_do_update(
        index_elements=["user_id"],
        set_={
            **{n: _when_newer(statement, USERS, "last_seen_at", excluded[n], n) for n in names},
            "first_seen_at": func.least(USERS.c.first_seen_at, excluded.first_seen_at),
            "last_seen_at": func.greatest(USERS.c.last_seen_at, excluded.last_seen_at),
        },
    )


def matching(table: Any, other: Any, names: Sequence[str]) -> list[Any]:
    """``table.<name> = other.<name>`` for each of ``names`` (tables, aliases or common table
    expressions): a row of ``table`` and one of ``other`` agree on those columns."""
    return [table.c[name] == other.c[name] for name in names]


def _edit_messages() -> Any:
    """Apply each edit unless a later one is stored; ``old`` is the row before the update,
    so ``RETURNING`` gives the change in words, and the text before and after."""
    edits, old = batch_of(MESSAGES, EDIT_COLUMNS, "edits"), MESSAGES.alias("old")
    key = ("chat_id", "message_id", "sent_at")
    return (
        update(MESSAGES)
        .where(
            *matching(MESSAGES, edits, key),
            *matching(old, MESSAGES, key),
            or_(MESSAGES.c.edited_at.is_(None), MESSAGES.c.edited_at <= edits.c.edited_at),
        )
        .values({name: edits.c[name] for name in EDIT_COLUMNS if name not in key})
        .returning(
            MESSAGES.c.chat_id,
            MESSAGES.c.message_id,
            MESSAGES.c.sent_at,
            MESSAGES.c.user_id,
            edits.c.word_count - old.c.word_count,
            old.c.text,
            MESSAGES.c.text,
            MESSAGES.c.hashtags,
        )
    )


def _mark_deleted() -> Any:
    deleted = batch_of(MESSAGES, DELETION_COLUMNS, "deleted")
    return (
        update(MESSAGES)
        .where(*matching(MESSAGES, deleted, COUNTS_KEY), MESSAGES.c.deleted_at.is_(None))
        .values(deleted_at=deleted.c.deleted_at)
    )


def _store_settings() -> Any:
    chosen = batch_of(CHATS, SETTINGS_COLUMNS, "chosen")
    return (
        update(CHATS)
        .where(CHATS.c.chat_id == chosen.c.chat_id)
        .values({name: chosen.c[name] for name in SETTINGS_COLUMNS[1:]})
    )


UPSERT_CHATS = _upsert_chats()
STORE_SETTINGS = _store_settings()
UPSERT_USERS = _upsert_users()
EDIT_MESSAGES = _edit_messages()
INSERT_AUDITS = insert(ADMIN_AUDIT).on_conflict_do_nothing(index_elements=["id"])
"""Audit rows (executemany: a few per batch); a redelivered event's row is stored once."""
MARK_DELETED = _mark_deleted()
INSERT_MEMBER_EVENTS = (
    insert_batch(MEMBER_EVENTS, MEMBER_EVENT_COLUMNS)
    .on_conflict_do_nothing(index_elements=["event_id"])
    .returning(MEMBER_EVENTS.c.event_id)
)


def _upsert_member_counts() -> Insert:
    statement = insert_batch(MEMBER_COUNTS, MEMBER_COUNT_COLUMNS)
    excluded = statement.excluded
    return statement.on_conflict_do_update(
        index_elements=["chat_id", "day"],
        set_={"count": excluded["count"], "observed_at": excluded.observed_at},
        where=excluded.observed_at >= MEMBER_COUNTS.c.observed_at,
    )


UPSERT_MEMBER_COUNTS = _upsert_member_counts()
"""A chat's member count on a local day: the snapshot taken last wins (an older one replayed
after it changes nothing)."""
_reacted = batch_of(REACTIONS, REACTION_KEY, "reacted")
STANDING_REACTIONS = (
    select(REACTIONS)
    .join(_reacted, and_(*matching(REACTIONS, _reacted, REACTION_KEY)))
    .with_for_update(of=REACTIONS)
)
DELETE_REACTIONS = REACTIONS.delete().where(*matching(REACTIONS, _reacted, REACTION_KEY))
INSERT_REACTIONS = insert_batch(REACTIONS, REACTION_COLUMNS)
_counted = batch_of(REACTION_COUNTS, COUNTS_KEY, "counted")
LATEST_COUNTS = (
    select(
        REACTION_COUNTS.c.chat_id,
        REACTION_COUNTS.c.message_id,
        func.max(REACTION_COUNTS.c.updated_at),
    )
    .join(_counted, and_(*matching(REACTION_COUNTS, _counted, COUNTS_KEY)))
    .group_by(REACTION_COUNTS.c.chat_id, REACTION_COUNTS.c.message_id)
)
DELETE_COUNTS = REACTION_COUNTS.delete().where(*matching(REACTION_COUNTS, _counted, COUNTS_KEY))
INSERT_COUNTS = insert_batch(REACTION_COUNTS, COUNTS_COLUMNS)
_answered = batch_of(MESSAGES, ORIGINALS_KEY, "answered")
ORIGINALS = select(
    MESSAGES.c.chat_id, MESSAGES.c.message_id, MESSAGES.c.sent_at, MESSAGES.c.user_id
).join(_answered, and_(*matching(MESSAGES, _answered, ORIGINALS_KEY)))
"""The stored messages replies of a batch may answer: ``(chat_id, message_id, sent_at,
user_id)`` of every message with one of the (chat_id, message_id) pairs given."""
_totaled = batch_of(MESSAGE_REACTIONS, COUNTS_KEY, "totaled")
NAMED_COUNTS = (
    select(REACTIONS.c.chat_id, REACTIONS.c.message_id, REACTIONS.c.emoji, func.count())
    .join(_totaled, and_(*matching(REACTIONS, _totaled, COUNTS_KEY)))
    .group_by(REACTIONS.c.chat_id, REACTIONS.c.message_id, REACTIONS.c.emoji)
)
"""``(chat_id, message_id, emoji, named reactions)`` of the messages given."""
NAMED_BY_REACTOR = (
    select(REACTIONS.c.chat_id, REACTIONS.c.message_id, REACTIONS.c.user_id, func.count())
    .join(_totaled, and_(*matching(REACTIONS, _totaled, COUNTS_KEY)))
    .group_by(REACTIONS.c.chat_id, REACTIONS.c.message_id, REACTIONS.c.user_id)
)
"""``(chat_id, message_id, user_id, named reactions)`` of the messages given."""
REACTED = union(
    select(REACTIONS.c.chat_id, REACTIONS.c.message_id).join(
        _totaled, and_(*matching(REACTIONS, _totaled, COUNTS_KEY))
    ),
    select(REACTION_COUNTS.c.chat_id, REACTION_COUNTS.c.message_id).join(
        _totaled, and_(*matching(REACTION_COUNTS, _totaled, COUNTS_KEY))
    ),
)
"""``(chat_id, message_id)`` of those of the messages given that have a named reaction or an
anonymous total stored."""
ANONYMOUS_COUNTS = select(
    REACTION_COUNTS.c.chat_id,
    REACTION_COUNTS.c.message_id,
    REACTION_COUNTS.c.emoji,
    REACTION_COUNTS.c.count,
).join(_totaled, and_(*matching(REACTION_COUNTS, _totaled, COUNTS_KEY)))
"""``(chat_id, message_id, emoji, anonymous total)`` of the messages given."""
STANDING_TOTALS = (
    select(
        MESSAGE_REACTIONS.c.chat_id,
        MESSAGE_REACTIONS.c.message_id,
        MESSAGE_REACTIONS.c.emoji,
        MESSAGE_REACTIONS.c.count,
    )
    .join(_totaled, and_(*matching(MESSAGE_REACTIONS, _totaled, COUNTS_KEY)))
    .with_for_update(of=MESSAGE_REACTIONS)
)
"""``(chat_id, message_id, emoji, count)`` of ``message_reactions`` for the messages given."""


def _replace(table: Table, names: Sequence[str], key: Sequence[str], prefix: str) -> list[Any]:
    """Make ``table``'s rows of the messages ``:totaled`` (:data:`COUNTS_KEY` arrays) those
    given (``names``' arrays, named with ``prefix``; None: none): a delete of the others and
    an upsert of those given, on disjoint rows (two statements on the same rows in one
    statement would meet in an unpredictable order)."""
    given = select(*batch_of(table, names, prefix=prefix).c).cte(f"{prefix}given")
    totaled = select(*batch_of(table, COUNTS_KEY, "totaled").c).cte(f"{prefix}totaled")
    kept = select(literal_column("1")).where(*matching(given, table, key)).exists()
    dropped = (
        delete(table).where(*matching(table, totaled, COUNTS_KEY), ~kept).cte(f"{prefix}dropped")
    )
    upsert = insert(table).from_select(list(names), select(*(given.c[n] for n in names)))
    changed = {n: upsert.excluded[n] for n in names if n not in key}
    stored = tuple_(*(table.c[n] for n in changed))
    upserted = upsert.on_conflict_do_update(
        index_elements=list(key),
        set_=changed,
        where=stored.is_distinct_from(tuple_(*changed.values())),
    )
    return [dropped, upserted.cte(f"{prefix}upserted")]


REPLACE_TOTALS: Any = select(literal_column("1")).add_cte(
    *_replace(MESSAGE_REACTIONS, TOTALS_COLUMNS, ("chat_id", "message_id", "emoji"), "by_emoji_"),
    *_replace(MESSAGE_REACTION_TOTALS, MESSAGE_TOTALS_COLUMNS, COUNTS_KEY, "by_message_"),
)
"""Replace the ``message_reactions`` rows (``:by_emoji_…`` arrays) and
``message_reaction_totals`` rows (``:by_message_…``) of the messages ``:totaled`` by those
given, in one statement; rows equal to those stored are left as they are."""
