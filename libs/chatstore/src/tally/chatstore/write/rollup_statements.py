"""The statements a batch's rollups are written with (SQLAlchemy Core, built once): the upserts
of the increments summed in Python (:data:`UPSERT_ROLLUPS`, with the monthly and per-author
sums derived from them in SQL, :data:`SUMS`), the deletes of rows counted down to 0
(:data:`DROP_ZEROS`), and the insert of new messages that counts them in the rollups of
messages sent (:data:`INSERT_MESSAGES`).

Rollups are upserted ``DO UPDATE SET col = col + excluded.col`` (``|`` for day masks); their
parameters are packed as :mod:`tally.chatstore.write.statements` describes, which also holds
the raw tables' statements.
"""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    Table,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    delete,
    func,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, BIT, Insert, insert
from sqlalchemy.sql.selectable import CTE

from tally.chatstore.tables import (
    CHAT_CONTENT_DAILY,
    CHAT_DAILY,
    CHAT_HASHTAGS_DAILY,
    CHAT_HOURLY,
    CHAT_TOPIC_DAILY,
    CHAT_WORDS_DAILY,
    MESSAGES,
    REACTION_EMOJI_DAILY,
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
)
from tally.chatstore.write.statements import Columns, batch_of, insert_batch, matching, packed

STORED_COLUMNS = tuple(c.name for c in MESSAGES.c if c.name not in {"edited_at", "deleted_at"})
MESSAGE_COLUMNS = (*STORED_COLUMNS, "local_day", "local_hour")
"""A new message's columns (:data:`INSERT_MESSAGES`): those stored, and the local day and hour
(0-23) of ``sent_at`` in the chat's zone, which it counts on in the rollups."""


def _upsert_rollup(
    table: Table, keys: Sequence[str], counts: Sequence[str] | None = None, prefix: str = ""
) -> Insert:
    """``INSERT … ON CONFLICT (keys) DO UPDATE SET col = col + excluded.col`` for every other
    column, or for ``counts`` only (the table's other columns then keep their defaults on
    insert and their values on conflict); parameters named with ``prefix``
    (:func:`~.statements.batch_of`)."""
    names = [*keys, *counts] if counts else [column.name for column in table.c]
    statement = insert_batch(table, names, prefix)
    sums = {n: table.c[n] + statement.excluded[n] for n in names if n not in keys}
    return statement.on_conflict_do_update(index_elements=list(keys), set_=sums)


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
        .join(inserted, and_(*matching(posted, inserted, ("chat_id", "message_id", "sent_at"))))
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
