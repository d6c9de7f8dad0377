"""The statements chat events are written with (SQLAlchemy Core, built once).

A batch's rows travel as one array per column and are turned back into rows with
``unnest($1::bigint[], $2::timestamptz[], …) AS batch(col, …)``. The statement text is the
same for any number of rows, so asyncpg prepares it once per connection (a multi-row
``VALUES`` list is a new statement for every row count), and there is no bind-parameter
limit to chunk under: each statement binds one parameter per column.

Upserts are ``INSERT … SELECT … FROM unnest(…) ON CONFLICT …``: raw rows ``DO NOTHING …
RETURNING`` their keys (only those count in the rollups), rollups ``DO UPDATE SET col = col +
excluded.col``, chats and users keep the earliest first-seen and the latest of the rest.
"""

from collections.abc import Iterable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    and_,
    any_,
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
from sqlalchemy.dialects.postgresql import ARRAY, BIT, Insert, insert
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import CTE, TableValuedAlias
from sqlalchemy.sql.visitors import InternalTraversal, _TraverseInternalsType

from tally.chatstore.tables import (
    ADMIN_AUDIT,
    CHAT_CONTENT_DAILY,
    CHAT_DAILY,
    CHAT_HASHTAGS_DAILY,
    CHAT_HOURLY,
    CHAT_TOPIC_DAILY,
    CHAT_WORDS_DAILY,
    CHATS,
    MEMBER_COUNTS,
    MEMBER_EVENTS,
    MESSAGE_REACTION_TOTALS,
    MESSAGE_REACTIONS,
    MESSAGES,
    REACTION_COUNTS,
    REACTION_EMOJI_DAILY,
    REACTIONS,
    REPLY_DELAY_BUCKETS_DAILY,
    REPLY_DELAY_BUCKETS_MONTHLY,
    REPLY_DELAYS_DAILY,
    REPLY_PAIRS_DAILY,
    REPLY_PAIRS_MONTHLY,
    USER_CHAT_DAILY,
    USER_CHAT_MONTHLY,
    USER_HOURS_DAILY,
    USER_HOURS_MONTHLY,
    USER_REACTIONS_DAILY,
    USER_REACTIONS_MONTHLY,
    USER_REPLIES_DAILY,
    USER_REPLIES_MONTHLY,
    USER_TOPIC_MONTHLY,
    USERS,
    Row,
)

CHAT_COLUMNS = ("chat_id", "chat_type", "title", "first_seen_at", "updated_at")
SETTINGS_COLUMNS = ("chat_id", "timezone", "store_text", "retention_days")
USER_COLUMNS: tuple[str, ...] = ("user_id", "username", "first_name", "last_name", "is_bot")
USER_COLUMNS += ("first_seen_at", "last_seen_at")
STORED_COLUMNS = tuple(c.name for c in MESSAGES.c if c.name not in {"edited_at", "deleted_at"})
MESSAGE_COLUMNS = (*STORED_COLUMNS, "local_day", "local_hour")
"""A new message's columns (:data:`INSERT_MESSAGES`): those stored, and the local day and hour
(0-23) of ``sent_at`` in the chat's zone, which it counts on in the rollups."""
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
    :func:`together`). Bind the parameters with :func:`packed`."""
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
    the columns are None: a batch of no rows, see :func:`together`); the other columns as
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


def _insert(table: Table, names: Sequence[str], prefix: str = "") -> Insert:
    batch = batch_of(table, names, prefix=prefix)
    return insert(table).from_select(list(names), select(*(batch.c[name] for name in names)))


def _when_newer(statement: Insert, table: Table, moment: str, value: Any, name: str) -> Any:
    """``value`` when the incoming row's ``moment`` is not older than the stored one's, else
    the stored ``name`` (an old event replayed after a newer one does not undo it)."""
    return case((statement.excluded[moment] >= table.c[moment], value), else_=table.c[name])


def _upsert_chats() -> Insert:
    statement = _insert(CHATS, CHAT_COLUMNS)
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
    statement = _insert(USERS, USER_COLUMNS)
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


def _upsert_rollup(
    table: Table, keys: Sequence[str], counts: Sequence[str] | None = None, prefix: str = ""
) -> Insert:
    """``INSERT … ON CONFLICT (keys) DO UPDATE SET col = col + excluded.col`` for every other
    column, or for ``counts`` only (the table's other columns then keep their defaults on
    insert and their values on conflict); parameters named with ``prefix`` (:func:`batch_of`)."""
    names = [*keys, *counts] if counts else [column.name for column in table.c]
    statement = _insert(table, names, prefix)
    sums = {n: table.c[n] + statement.excluded[n] for n in names if n not in keys}
    return statement.on_conflict_do_update(index_elements=list(keys), set_=sums)


def _same(table: Any, other: Any, names: Sequence[str]) -> list[Any]:
    return [table.c[name] == other.c[name] for name in names]


def _edit_messages() -> Any:
    """Apply each edit unless a later one is stored; ``old`` is the row before the update,
    so ``RETURNING`` gives the change in words, and the text before and after."""
    edits, old = batch_of(MESSAGES, EDIT_COLUMNS, "edits"), MESSAGES.alias("old")
    key = ("chat_id", "message_id", "sent_at")
    return (
        update(MESSAGES)
        .where(
            *_same(MESSAGES, edits, key),
            *_same(old, MESSAGES, key),
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
        .where(*_same(MESSAGES, deleted, COUNTS_KEY), MESSAGES.c.deleted_at.is_(None))
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
    _insert(MEMBER_EVENTS, MEMBER_EVENT_COLUMNS)
    .on_conflict_do_nothing(index_elements=["event_id"])
    .returning(MEMBER_EVENTS.c.event_id)
)


def _upsert_member_counts() -> Insert:
    statement = _insert(MEMBER_COUNTS, MEMBER_COUNT_COLUMNS)
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
    .join(_reacted, and_(*_same(REACTIONS, _reacted, REACTION_KEY)))
    .with_for_update(of=REACTIONS)
)
DELETE_REACTIONS = REACTIONS.delete().where(*_same(REACTIONS, _reacted, REACTION_KEY))
INSERT_REACTIONS = _insert(REACTIONS, REACTION_COLUMNS)
_counted = batch_of(REACTION_COUNTS, COUNTS_KEY, "counted")
LATEST_COUNTS = (
    select(
        REACTION_COUNTS.c.chat_id,
        REACTION_COUNTS.c.message_id,
        func.max(REACTION_COUNTS.c.updated_at),
    )
    .join(_counted, and_(*_same(REACTION_COUNTS, _counted, COUNTS_KEY)))
    .group_by(REACTION_COUNTS.c.chat_id, REACTION_COUNTS.c.message_id)
)
DELETE_COUNTS = REACTION_COUNTS.delete().where(*_same(REACTION_COUNTS, _counted, COUNTS_KEY))
INSERT_COUNTS = _insert(REACTION_COUNTS, COUNTS_COLUMNS)
_answered = batch_of(MESSAGES, ORIGINALS_KEY, "answered")
ORIGINALS = select(
    MESSAGES.c.chat_id, MESSAGES.c.message_id, MESSAGES.c.sent_at, MESSAGES.c.user_id
).join(_answered, and_(*_same(MESSAGES, _answered, ORIGINALS_KEY)))
"""The stored messages replies of a batch may answer: ``(chat_id, message_id, sent_at,
user_id)`` of every message with one of the (chat_id, message_id) pairs given."""
_totaled = batch_of(MESSAGE_REACTIONS, COUNTS_KEY, "totaled")
NAMED_COUNTS = (
    select(REACTIONS.c.chat_id, REACTIONS.c.message_id, REACTIONS.c.emoji, func.count())
    .join(_totaled, and_(*_same(REACTIONS, _totaled, COUNTS_KEY)))
    .group_by(REACTIONS.c.chat_id, REACTIONS.c.message_id, REACTIONS.c.emoji)
)
"""``(chat_id, message_id, emoji, named reactions)`` of the messages given."""
NAMED_BY_REACTOR = (
    select(REACTIONS.c.chat_id, REACTIONS.c.message_id, REACTIONS.c.user_id, func.count())
    .join(_totaled, and_(*_same(REACTIONS, _totaled, COUNTS_KEY)))
    .group_by(REACTIONS.c.chat_id, REACTIONS.c.message_id, REACTIONS.c.user_id)
)
"""``(chat_id, message_id, user_id, named reactions)`` of the messages given."""
REACTED = union(
    select(REACTIONS.c.chat_id, REACTIONS.c.message_id).join(
        _totaled, and_(*_same(REACTIONS, _totaled, COUNTS_KEY))
    ),
    select(REACTION_COUNTS.c.chat_id, REACTION_COUNTS.c.message_id).join(
        _totaled, and_(*_same(REACTION_COUNTS, _totaled, COUNTS_KEY))
    ),
)
"""``(chat_id, message_id)`` of those of the messages given that have a named reaction or an
anonymous total stored."""
ANONYMOUS_COUNTS = select(
    REACTION_COUNTS.c.chat_id,
    REACTION_COUNTS.c.message_id,
    REACTION_COUNTS.c.emoji,
    REACTION_COUNTS.c.count,
).join(_totaled, and_(*_same(REACTION_COUNTS, _totaled, COUNTS_KEY)))
"""``(chat_id, message_id, emoji, anonymous total)`` of the messages given."""
STANDING_TOTALS = (
    select(
        MESSAGE_REACTIONS.c.chat_id,
        MESSAGE_REACTIONS.c.message_id,
        MESSAGE_REACTIONS.c.emoji,
        MESSAGE_REACTIONS.c.count,
    )
    .join(_totaled, and_(*_same(MESSAGE_REACTIONS, _totaled, COUNTS_KEY)))
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
    kept = select(literal_column("1")).where(*_same(given, table, key)).exists()
    dropped = delete(table).where(*_same(table, totaled, COUNTS_KEY), ~kept).cte(f"{prefix}dropped")
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


Derived = tuple[Table, Sequence[tuple[str, str]], Sequence[tuple[str, str]]]
"""A rollup summed from another in the same statement: (table, its keys as (column, source
column; a source ``month:<day column>`` is that day's month), its counts as (column, source
column summed))."""


def _upsert_with_sums(
    table: Table, keys: Sequence[str], derived: Sequence[Derived], prefix: str = ""
) -> Insert:
    """:func:`_upsert_rollup` of ``table``, and in the same statement its ``derived`` sums
    (:func:`_upsert_from`). The arrays are sent and decoded once (issue 17: the monthly and
    per-author sums were built and encoded again in Python). Parameters and common table
    expressions are named with ``prefix``."""
    names = [column.name for column in table.c]
    batch = select(*batch_of(table, names, prefix=prefix).c).cte(f"{prefix}batch")
    return _upsert_from(table, keys, derived, batch, prefix)


def _upsert_from(
    table: Table,
    keys: Sequence[str],
    derived: Sequence[Derived],
    source: CTE,
    prefix: str,
    combine: str = "+",
) -> Insert:
    """Upsert the increments ``source`` (a common table expression with ``table``'s key and
    some count columns) into ``table`` (``col = col <combine> excluded.col``: ``+`` sums,
    ``|`` masks), and in the same statement, for each of ``derived``, the increments summed
    by the derived table's keys, upserted into it the same way (``INSERT … SELECT … GROUP BY
    … ORDER BY <keys>``: rows locked in key order, as when the sums came sorted from Python);
    common table expressions named with ``prefix``."""
    names = list(source.c.keys())
    statement = insert(table).from_select(names, select(*(source.c[n] for n in names)))
    statement = statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={n: table.c[n].op(combine)(statement.excluded[n]) for n in names if n not in keys},
    )
    for other, other_keys, sums in derived:
        grouped = [
            _month(source.c[key[6:]]) if key.startswith("month:") else source.c[key]
            for _, key in other_keys
        ]
        summed = [cast(func.sum(source.c[count]), other.c[n].type) for n, count in sums]
        columns = [n for n, _ in (*other_keys, *sums)]
        into = insert(other).from_select(
            columns, select(*grouped, *summed).group_by(*grouped).order_by(*grouped)
        )
        into = into.on_conflict_do_update(
            index_elements=[n for n, _ in other_keys],
            set_={n: other.c[n] + into.excluded[n] for n, _ in sums},
        )
        statement = statement.add_cte(into.cte(f"{prefix}into_{other.name}"))
    return statement


def _month(day: Any) -> Any:
    """The first day of the month of the date ``day`` (a date)."""
    return cast(func.date_trunc(literal_column("'month'"), cast(day, DateTime)), Date)


_DAY_KEYS = (("chat_id", "chat_id"), ("day", "day"))
_MONTH_KEYS = (("chat_id", "chat_id"), ("month", "month:day"))
SUMS: dict[Table, Sequence[Derived]] = {
    USER_HOURS_DAILY: [
        (
            USER_HOURS_MONTHLY,
            (
                ("chat_id", "chat_id"),
                ("user_id", "user_id"),
                ("month", "month:day"),
                ("hour", "hour"),
            ),
            (("messages", "messages"),),
        )
    ],
    USER_REACTIONS_DAILY: [
        (
            USER_REACTIONS_MONTHLY,
            (*_MONTH_KEYS, ("user_id", "user_id")),
            (("received", "received"), ("given", "given")),
        )
    ],
    REPLY_PAIRS_DAILY: [
        (
            USER_REPLIES_DAILY,
            (*_DAY_KEYS, ("user_id", "replied_user_id")),
            (("received", "replies"),),
        ),
        (
            USER_REPLIES_MONTHLY,
            (*_MONTH_KEYS, ("user_id", "replied_user_id")),
            (("received", "replies"),),
        ),
        (
            REPLY_PAIRS_MONTHLY,
            (*_MONTH_KEYS, ("user_id", "user_id"), ("replied_user_id", "replied_user_id")),
            (("replies", "replies"),),
        ),
    ],
    REPLY_DELAYS_DAILY: [
        (
            REPLY_DELAY_BUCKETS_DAILY,
            (*_DAY_KEYS, ("bucket", "bucket")),
            (("replies", "replies"),),
        ),
        (
            REPLY_DELAY_BUCKETS_MONTHLY,
            (*_MONTH_KEYS, ("bucket", "bucket")),
            (("replies", "replies"),),
        ),
    ],
}
"""The rollups summed in SQL from another's increments: ``user_hours_monthly`` from
``user_hours_daily``; ``user_reactions_monthly`` from ``user_reactions_daily``;
``user_replies_daily``, ``user_replies_monthly`` (by author replied to) and
``reply_pairs_monthly`` from ``reply_pairs_daily``; ``reply_delay_buckets_daily`` and
``reply_delay_buckets_monthly`` (by bucket) from ``reply_delays_daily``."""
COUNTED: dict[Table, tuple[str, ...]] = {USER_CHAT_MONTHLY: ("messages", "words")}
"""Rollups whose increments are some of their columns only: ``user_chat_monthly`` adds
messages and words; its ``days`` mask is the trigger's (migration 0004)."""
ROLLUPS = (
    CHAT_DAILY,
    USER_CHAT_DAILY,
    CHAT_HOURLY,
    CHAT_WORDS_DAILY,
    CHAT_HASHTAGS_DAILY,
    REACTION_EMOJI_DAILY,
    USER_REACTIONS_DAILY,
    USER_CHAT_MONTHLY,
)
"""The rollups whose increments summed in Python (:mod:`tally.chatstore.write.rollups`: all
but those of new messages, :data:`INSERT_MESSAGES`) a batch upserts, in
:data:`UPSERT_ROLLUPS`'s order (each with its :data:`SUMS`)."""


def increment_columns(table: Table) -> tuple[str, ...]:
    """The columns of rollup ``table``'s increments: its key and its counts."""
    keys = tuple(column.name for column in table.primary_key)
    return (*keys, *COUNTED[table]) if table in COUNTED else tuple(c.name for c in table.c)


def upsert_increments(table: Table, prefix: str = "") -> Insert:
    """The upsert of rollup ``table``'s increments (one of :data:`ROLLUPS`), with its
    :data:`SUMS`; parameters (and common table expressions) named with ``prefix``."""
    keys = [column.name for column in table.primary_key]
    if table in SUMS:
        return _upsert_with_sums(table, keys, SUMS[table], prefix)
    return _upsert_rollup(table, keys, COUNTED.get(table), prefix)


def _together(statements: Sequence[Any]) -> Any:
    """One statement running ``statements`` (each on tables no other one writes) as
    data-modifying common table expressions of the first: one round trip instead of one
    each (issue 17: ~0.5 ms of Python CPU per statement). All see the same snapshot, so none
    may read what another writes."""
    first, *rest = statements
    return first.add_cte(*(statement.cte(f"part_{i}") for i, statement in enumerate(rest)))


UPSERT_CHAT_WORDS_DAILY = upsert_increments(CHAT_WORDS_DAILY)
UPSERT_CHAT_HASHTAGS_DAILY = upsert_increments(CHAT_HASHTAGS_DAILY)
UPSERT_ROLLUPS = _together([upsert_increments(table, f"{table.name}_") for table in ROLLUPS])
"""Every rollup's increments of a batch (:data:`ROLLUPS`, each's parameters prefixed with its
table's name and ``_``), in one statement; bind them with :func:`rollup_parameters`."""
ZEROS_DROPPED = (
    CHAT_WORDS_DAILY,
    CHAT_HASHTAGS_DAILY,
    REACTION_EMOJI_DAILY,
    USER_REACTIONS_DAILY,
    USER_REACTIONS_MONTHLY,
)
"""The rollups whose counts can go down (edits, withdrawn reactions): :data:`DROP_ZEROS`."""
DROP_ZEROS = _together(
    [
        delete(table).where(
            table.c.chat_id == any_(cast(bindparam(f"{table.name}_chats"), ARRAY(BigInteger))),
            *(column == literal_column("0") for column in table.c if not column.primary_key),
        )
        for table in ZEROS_DROPPED
    ]
)
"""Delete the rows whose counts are all 0 of each of :data:`ZEROS_DROPPED` in the chats
``:<table>_chats`` (None: none), in one statement."""


def rollup_parameters(increments: Sequence[Columns]) -> dict[str, Any]:
    """The parameters of :data:`UPSERT_ROLLUPS` for the increments of each of :data:`ROLLUPS`
    (in its order; ``{}``: none)."""
    columns: dict[str, Any] = {}
    for table, part in zip(ROLLUPS, increments, strict=True):
        prefix = f"{table.name}_"
        for name in increment_columns(table):
            columns[f"{prefix}a_{name}"] = part[f"a_{name}"] if part else None
    return packed(UPSERT_ROLLUPS, columns)


_POSTED = Table(
    "posted",
    MetaData(),
    *(Column(name, MESSAGES.c[name].type) for name in STORED_COLUMNS),
    Column("local_day", Date),
    Column("local_hour", Integer),
)


def _insert_messages() -> Any:
    """:data:`INSERT_MESSAGES`."""
    posted = select(*batch_of(_POSTED, MESSAGE_COLUMNS).c).cte("posted")
    inserted = (
        insert(MESSAGES)
        .from_select(STORED_COLUMNS, select(*(posted.c[n] for n in STORED_COLUMNS)))
        .on_conflict_do_nothing()
        .returning(MESSAGES.c.chat_id, MESSAGES.c.message_id, MESSAGES.c.sent_at)
        .cte("inserted")
    )
    new = (
        select(posted)
        .join(inserted, and_(*_same(posted, inserted, ("chat_id", "message_id", "sent_at"))))
        .cte("new")
    )
    counted = [_upsert_posted(new.c, increments) for increments in _posted_increments(new.c)]
    keys = (inserted.c.chat_id, inserted.c.message_id, inserted.c.sent_at)
    return select(*keys).add_cte(*(count.cte(f"{count.table.name}_counted") for count in counted))


NO_TOPIC = 0
"""``thread_id`` of the topic rollups' rows for messages outside any forum topic."""
ANONYMOUS = 0
"""``user_id`` of ``reply_pairs_daily`` rows for replies without a sender."""
DELAY_BITS = 6
"""The leading bits of a delay's whole seconds its bucket keeps (``reply_delays_daily``)."""


def delay_bucket(delay_s: Any) -> Any:
    """The bucket of a reply delay of ``delay_s`` seconds (>= 0), the lower bound of a range of
    delays in whole seconds: the whole seconds themselves below 64 s, else the whole seconds
    with all but their DELAY_BITS leading bits cleared (126 for 127.5 s, 999,424 for
    1,000,000 s). The same as migration 0014's ``BUCKET`` (its backfill; a test checks
    both on the same delays)."""
    whole = cast(func.floor(delay_s), BigInteger)
    bits = func.length(func.ltrim(cast(cast(whole, BIT(64)), Text), literal_column("'0'")))
    shift = func.greatest(bits - literal_column(str(DELAY_BITS)), literal_column("0"))
    return whole.op(">>")(shift).op("<<")(shift)


def _day_bit(day: Any) -> Any:
    """The bit of a date's day of the month in a ``days`` mask: 0 for the 1st."""
    return (cast(func.extract("day", day), Integer) - literal_column("1")).self_group()


Increments = tuple[Table, dict[str, Any], dict[str, Any], Any, str]
"""How new messages count in a rollup: (table, its key columns -> their values, its count
columns -> their aggregates, which messages count (None: all), how the counts combine with
those stored: ``+`` or ``|``)."""


def _posted_increments(new: Any) -> list[Increments]:
    """What each new message (the columns ``new`` of a row inserted) adds to each rollup, as
    :mod:`tally.chatstore.write.rollups` describes."""
    no_topic: Any = literal_column(str(NO_TOPIC))
    anonymous: Any = literal_column(str(ANONYMOUS))
    day, user, thread = new.local_day, new.user_id, func.coalesce(new.thread_id, no_topic)
    month, one = _month(day), func.count()
    texts = {"messages": one, "words": func.sum(new.word_count)}
    senders = user.is_not(None)
    replied = new.reply_to_user_id
    return [
        (CHAT_DAILY, {"chat_id": new.chat_id, "day": day}, texts, None, "+"),
        (
            CHAT_HOURLY,
            {
                "chat_id": new.chat_id,
                "hour": func.date_trunc(
                    literal_column("'hour'"), new.sent_at, literal_column("'UTC'")
                ),
            },
            texts,
            None,
            "+",
        ),
        (
            USER_CHAT_DAILY,
            {"chat_id": new.chat_id, "day": day, "user_id": user},
            texts,
            senders,
            "+",
        ),
        (
            USER_CHAT_MONTHLY,
            {"chat_id": new.chat_id, "month": month, "user_id": user},
            texts,
            senders,
            "+",
        ),
        (
            CHAT_CONTENT_DAILY,
            {"chat_id": new.chat_id, "day": day, "message_type": new.message_type},
            {
                "messages": one,
                "links": func.sum(new.links),
                "mentions": func.sum(new.mentions),
                "hashtags": func.sum(new.hashtags),
                "forwards": func.count().filter(new.forwarded),
                "replies": func.count(new.reply_to_message_id),
            },
            None,
            "+",
        ),
        (
            CHAT_TOPIC_DAILY,
            {"chat_id": new.chat_id, "day": day, "thread_id": thread},
            {"messages": one},
            None,
            "+",
        ),
        (
            USER_TOPIC_MONTHLY,
            {"chat_id": new.chat_id, "month": month, "thread_id": thread, "user_id": user},
            {"days": func.bit_or(literal_column("1").op("<<")(_day_bit(day)))},
            senders,
            "|",
        ),
        (
            REPLY_PAIRS_DAILY,
            {
                "chat_id": new.chat_id,
                "day": day,
                "user_id": func.coalesce(user, anonymous),
                "replied_user_id": replied,
            },
            {"replies": one},
            and_(replied.is_not(None), replied.is_distinct_from(user)),
            "+",
        ),
        (
            USER_HOURS_DAILY,
            {"chat_id": new.chat_id, "user_id": user, "day": day, "hour": new.local_hour},
            {"messages": one},
            senders,
            "+",
        ),
        (
            REPLY_DELAYS_DAILY,
            {
                "chat_id": new.chat_id,
                "bucket": delay_bucket(new.reply_delay_s),
                "day": day,
                "delay_s": new.reply_delay_s,
            },
            {"replies": one},
            new.reply_delay_s.is_not(None),
            "+",
        ),
    ]


def _upsert_posted(new: Any, increments: Increments) -> Insert:
    """The upsert of one rollup's ``increments`` from the new messages ``new``, with its
    :data:`SUMS`."""
    table, keys, counts, where, combine = increments
    grouped = [value.label(name) for name, value in keys.items()]
    summed = [cast(value, table.c[name].type).label(name) for name, value in counts.items()]
    query = select(*grouped, *summed).group_by(*keys.values()).order_by(*keys.values())
    source = (query if where is None else query.where(where)).cte(f"{table.name}_new")
    prefix = f"{table.name}_"
    return _upsert_from(table, list(keys), SUMS.get(table, ()), source, prefix, combine)


INSERT_MESSAGES = _insert_messages()
"""Insert a batch's new messages (:data:`MESSAGE_COLUMNS`; those already stored are left as
they are) and count those inserted in the rollups of messages sent (all but the words and
hashtags of their text, counted in Python, :func:`tally.chatstore.write.rollups.count_inserted`),
in one statement; returns the ``(chat_id, message_id, sent_at)`` of those inserted."""
