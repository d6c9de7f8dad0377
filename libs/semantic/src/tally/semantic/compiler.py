"""Query plan -> SQL built with SQLAlchemy Core, every value a bound parameter.

Snapshot plans that filter, or group, on a video's creator or publication time join
``video_snapshots.video_id -> videos.id``. Sums of an empty set are 0 (``COALESCE``);
averages, minima and maxima of an empty set are NULL.

A grouped plan selects ``(label, value)`` rows: entities (video, creator) ranked by the
measure (NULLs last, ties by key ascending) and cut to the grouping's limit; time buckets
(``date_trunc`` of the range column in UTC) in time order, only the buckets that have rows
(``domain.series`` fills in the others).
"""

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    DateTime,
    FromClause,
    Integer,
    Select,
    String,
    Table,
    and_,
    any_,
    bindparam,
    cast,
    distinct,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect

from tally.infra.db.models import Base, User, Video, VideoSnapshot
from tally.semantic import catalog
from tally.semantic.plan import (
    PERIOD_COLUMN,
    Aggregate,
    Calendar,
    Dataset,
    Dimension,
    Filter,
    Grouping,
    Measure,
    Op,
    QueryPlan,
    Sender,
)

VIDEOS = Video.__table__
SNAPSHOTS = VideoSnapshot.__table__
USERS = User.__table__
_JOINED_COLUMNS = frozenset(catalog().joined_columns(Dataset.SNAPSHOTS))
"""Snapshot columns that live on the video (the semantic catalog's join snapshot -> video)."""
_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it untyped

_OPERATORS: dict[Op, Callable[[Any, Any], ColumnElement[bool]]] = {
    Op.GT: operator.gt,
    Op.GE: operator.ge,
    Op.LT: operator.lt,
    Op.LE: operator.le,
    Op.EQ: operator.eq,
    Op.NE: operator.ne,
}


@dataclass(frozen=True, slots=True)
class CompiledQuery:
    """SQL text with ``$n`` placeholders (asyncpg's), the values to bind in order, and the
    same values by name for the answer and the questions log."""

    sql: str
    args: tuple[Any, ...]
    params: dict[str, str | int | float]


def _table(dataset: Dataset) -> Table:
    return Base.metadata.tables[catalog().datasets[dataset].table]


def _column(dataset: Dataset, name: str) -> ColumnElement[Any]:
    join = catalog().joined_columns(dataset).get(name)
    if join is not None:
        return _table(Dataset(join.dataset)).c[name]
    return _table(dataset).c[name]


def _needs_join(plan: QueryPlan) -> bool:
    used: set[str] = {f.column for f in (*plan.filters, *plan.measure.where)}
    used |= {c for pair in plan.comparisons for c in (pair.column, pair.other)}
    for timed in (plan.time_range, plan.calendar):
        if timed:
            used.add(timed.column)
    if plan.measure.column:
        used.add(plan.measure.column)
    if plan.group_by and plan.group_by.by is Dimension.CREATOR:
        used.add("creator_id")
    return plan.dataset is Dataset.SNAPSHOTS and bool(used & _JOINED_COLUMNS)


def datasets_read(plan: QueryPlan) -> frozenset[Dataset]:
    """The tables ``plan``'s SQL reads: its dataset, plus ``videos`` for a snapshot plan that
    joins it (a filter, range, measure or grouping on the video's creator or publication
    time)."""
    if _needs_join(plan):
        return frozenset({Dataset.SNAPSHOTS, Dataset.VIDEOS})
    return frozenset({plan.dataset})


def _source(plan: QueryPlan) -> FromClause:
    source: FromClause = _table(plan.dataset)
    if _needs_join(plan):
        return SNAPSHOTS.join(VIDEOS, SNAPSHOTS.c.video_id == VIDEOS.c.id)
    if plan.group_by is not None and plan.group_by.by is Dimension.USER:
        people = _table(plan.dataset)
        return source.outerjoin(USERS, USERS.c.user_id == people.c.user_id)
    return source


def _measure(dataset: Dataset, measure: Measure) -> ColumnElement[Any]:
    if measure.aggregate is Aggregate.SHARE:
        part = func.count().filter(and_(*_filters(dataset, measure.where)))
        return literal(100.0) * part / func.nullif(func.count(), 0)
    if measure.period is not None:
        time = _column(dataset, PERIOD_COLUMN[dataset])
        utc = time.op("AT TIME ZONE", return_type=DateTime())(literal("UTC"))
        return func.count(distinct(func.date_trunc(literal(measure.period), utc)))
    if measure.column is None:
        return func.count()
    column = _column(dataset, measure.column)
    match measure.aggregate:
        case Aggregate.MEDIAN:
            return func.percentile_cont(literal(0.5)).within_group(column)
        case Aggregate.PERCENTILE:
            return func.percentile_cont(literal(measure.fraction)).within_group(column)
        case Aggregate.SHARE:
            raise AssertionError("a share has no column")
        case Aggregate.COUNT:
            return func.count(column)
        case Aggregate.COUNT_DISTINCT:
            return func.count(distinct(column))
        case Aggregate.SUM:
            return func.coalesce(func.sum(column), 0)
        case Aggregate.AVG:
            return func.avg(column)
        case Aggregate.MIN:
            return func.min(column)
        case Aggregate.MAX:
            return func.max(column)


def _filters(dataset: Dataset, filters: tuple[Filter, ...]) -> list[ColumnElement[bool]]:
    return [_OPERATORS[f.op](_column(dataset, f.column), f.value) for f in filters]


def _calendar(dataset: Dataset, calendar: Calendar) -> list[ColumnElement[bool]]:
    """ISO weekday and hour of day of the calendar's column on its zone's wall clock."""
    zone: BindParameter[str] = bindparam("calendar_zone", calendar.timezone)
    local = _column(dataset, calendar.column).op("AT TIME ZONE", return_type=DateTime())(zone)
    conditions: list[ColumnElement[bool]] = []
    if calendar.weekdays:
        days = bindparam("weekdays", list(calendar.weekdays), type_=ARRAY(Integer))
        conditions.append(func.extract("isodow", local) == any_(days))
    if calendar.hours is not None:
        hour = func.extract("hour", local)
        start, end = calendar.hours
        conditions += [hour >= start, hour < end]
    return conditions


def _named(name: str) -> ColumnElement[bool]:
    """A user whose @username, first name or full name is ``name`` (any case)."""
    wanted: BindParameter[str] = bindparam("sender_name", name.lower())
    full = func.lower(func.concat_ws(" ", USERS.c.first_name, USERS.c.last_name))
    return or_(
        func.lower(USERS.c.username) == wanted,
        func.lower(USERS.c.first_name) == wanted,
        full == wanted,
    )


def _sender(dataset: Dataset, sender: Sender) -> list[ColumnElement[bool]]:
    """The rows of the named person (any of their accounts with that name) and/or of no bot."""
    user_id = _table(dataset).c.user_id
    conditions: list[ColumnElement[bool]] = []
    if sender.name is not None:
        conditions.append(user_id.in_(select(USERS.c.user_id).where(_named(sender.name))))
    if not sender.bots:
        bots = select(USERS.c.user_id).where(USERS.c.user_id == user_id, USERS.c.is_bot)
        conditions.append(~bots.exists())
    return conditions


def sender_count(plan: QueryPlan, chat_id: int) -> CompiledQuery:
    """How many people of chat ``chat_id`` (who have a row in the plan's dataset there) carry
    the plan's sender name: one row, one column. Raises ValueError for a plan without one."""
    if plan.sender is None or plan.sender.name is None:
        raise ValueError("the plan names no sender")
    rows = _table(plan.dataset)
    chat: BindParameter[int] = bindparam("chat_id", chat_id, type_=BigInteger)
    present = select(rows.c.user_id).where(
        rows.c.chat_id == chat, rows.c.user_id == USERS.c.user_id
    )
    statement = (
        select(func.count()).select_from(USERS).where(_named(plan.sender.name), present.exists())
    )
    return _compiled(statement)


def _conditions(plan: QueryPlan, chat_id: int | None) -> list[ColumnElement[bool]]:
    conditions = _filters(plan.dataset, plan.filters)
    conditions += [
        _OPERATORS[c.op](_column(plan.dataset, c.column), _column(plan.dataset, c.other))
        for c in plan.comparisons
    ]
    if plan.calendar is not None:
        conditions += _calendar(plan.dataset, plan.calendar)
    if plan.sender is not None:
        conditions += _sender(plan.dataset, plan.sender)
    if catalog().chat_scoped(plan.dataset):
        if chat_id is None:
            raise ValueError(f"a plan over {plan.dataset} needs the asking chat's id")
        chat: BindParameter[int] = bindparam("chat_id", chat_id, type_=BigInteger)
        conditions.append(_table(plan.dataset).c.chat_id == chat)
    if plan.time_range:
        column = _column(plan.dataset, plan.time_range.column)
        conditions += [column >= plan.time_range.start, column < plan.time_range.end]
    return conditions


def _bucket(plan: QueryPlan, by: Dimension) -> ColumnElement[Any]:
    """``date_trunc('day'|'hour', <range column> AT TIME ZONE <the range's zone>)``: a bucket
    start as wall-clock time in that zone (a timestamp without time zone)."""
    assert plan.time_range is not None, "the plan validator requires a range for a series"
    column = _column(plan.dataset, plan.time_range.column)
    zone: BindParameter[str] = bindparam("time_zone", plan.time_range.timezone)
    local = column.op("AT TIME ZONE", return_type=DateTime())(zone)
    return func.date_trunc(bindparam("bucket", by.value), local, type_=DateTime())


def _person(plan: QueryPlan) -> ColumnElement[Any]:
    """A chat member's label: ``@username``, else their name, else their id as text; an
    anonymous sender (no user id) is ``anonymous``."""
    user_id = _table(plan.dataset).c.user_id
    name = func.nullif(func.concat_ws(" ", USERS.c.first_name, USERS.c.last_name), "")
    return func.coalesce(
        literal("@") + USERS.c.username, name, cast(user_id, String), literal("anonymous")
    )


def _key(plan: QueryPlan, by: Dimension) -> ColumnElement[Any]:
    match by:
        case Dimension.VIDEO | Dimension.CREATOR:
            return _column(plan.dataset, catalog().entity_column(plan.dataset, by.value))
        case Dimension.USER:
            return _person(plan)
        case Dimension.DAY | Dimension.HOUR:
            return _bucket(plan, by)


def _grouped(
    plan: QueryPlan, grouping: Grouping, value: ColumnElement[Any], chat_id: int | None
) -> Select[Any]:
    key = _key(plan, grouping.by).label("label")
    conditions = _conditions(plan, chat_id)
    statement = select(key, value).select_from(_source(plan)).where(*conditions)
    if grouping.by is Dimension.USER:
        statement = statement.group_by(_table(plan.dataset).c.user_id, key)
    else:
        statement = statement.group_by(key)
    if grouping.by.is_time:
        return statement.order_by(key)
    rank = _measure(plan.dataset, grouping.rank_by) if grouping.rank_by else value
    ranked = rank.desc() if grouping.order == "desc" else rank.asc()
    limit: BindParameter[int] = bindparam("limit", grouping.limit)
    return statement.order_by(ranked.nulls_last(), key.asc()).limit(limit)


def _statement(plan: QueryPlan, chat_id: int | None) -> Select[Any]:
    value = _measure(plan.dataset, plan.measure).label("value")
    if plan.group_by is not None:
        return _grouped(plan, plan.group_by, value, chat_id)
    return select(value).select_from(_source(plan)).where(*_conditions(plan, chat_id))


def _printable(value: object) -> str | int | float:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int | float | str):
        return value
    return str(value)


@lru_cache(maxsize=4096)
def compile_plan(plan: QueryPlan, chat_id: int | None = None) -> CompiledQuery:
    """The SELECT for ``plan``: one row, one column (the measure); for a grouped plan, rows of
    ``(label, value)`` (a video's UUID, a creator id or a UTC bucket start; the measure).

    A plan over a chat-scoped dataset (``messages``, ``member_events``) reads only the rows
    of ``chat_id``, the chat the question was asked in: the condition is added here, whatever
    the plan says, and ``ValueError`` is raised without one. A ranking of people is labelled
    ``@username`` (else name, else id).

    Plans are immutable, so compilations are memoised (the 4096 most recent plans and chats):
    a plan asked again skips SQLAlchemy's compiler. Only SQL is cached, never a result.
    """
    return _compiled(_statement(plan, chat_id))


def _compiled(statement: Select[Any]) -> CompiledQuery:
    compiled = statement.compile(dialect=_DIALECT)
    values = compiled.params
    order = compiled.positiontup or ()
    params = {key: _printable(values[key]) for key in order}
    return CompiledQuery(sql=str(compiled), args=tuple(values[key] for key in order), params=params)
