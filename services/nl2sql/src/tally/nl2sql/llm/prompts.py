"""What the model is told and what it must answer: the reply schema, the system prompt
(catalog, UTC dates, half-open ranges, today's date) and a few worked examples.

The catalog in the prompt (datasets, columns, time columns, measures, tables and joins) is
generated from the semantic catalog (:func:`tally.semantic.catalog`) and
:data:`tally.semantic.plan.CATALOG`, so it cannot drift from what plans may name.
"""

import json
from datetime import date
from typing import Any, Final, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tally.contracts.events import Language
from tally.semantic import catalog
from tally.semantic.plan import CATALOG, TIME_COLUMNS, Aggregate, Op, QueryPlan

Message = dict[str, str]
"""One chat message: ``{"role": "system" | "user" | "assistant", "content": ...}``."""


class LlmReply(BaseModel):
    """The model's answer: exactly one of ``plan``, ``sql`` (with ``interpretation``, for a
    question no plan can express) or ``refuse`` (a sentence for the asker).

    Raises ``pydantic.ValidationError`` when none or several are set, or the plan is invalid.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    plan: QueryPlan | None = None
    sql: str | None = Field(default=None, min_length=1, max_length=10_000)
    interpretation: str = Field(default="", max_length=500)
    refuse: str | None = Field(default=None, min_length=1, max_length=500)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        chosen = [self.plan is not None, self.sql is not None, self.refuse is not None]
        if sum(chosen) != 1:
            raise ValueError("set exactly one of plan, sql, refuse")
        if self.plan is not None:
            _check_types(self.plan)
        return self


_ARITHMETIC: Final = frozenset(
    {
        Aggregate.SUM,
        Aggregate.AVG,
        Aggregate.MIN,
        Aggregate.MAX,
        Aggregate.MEDIAN,
        Aggregate.PERCENTILE,
    }
)
_NUMERIC: Final = frozenset({"counter", "delta", "number"})


def _check_types(plan: QueryPlan) -> None:
    """Raise ValueError for what the catalog allows but means nothing, by the semantic
    catalog's column kinds: arithmetic on anything but a counter, delta or number; a number
    compared with text; text ordered; a category value it does not list; a chat-scoped plan
    that names a chat (the executor adds the asking chat itself)."""
    columns = catalog().columns(plan.dataset)
    column = plan.measure.column
    if plan.measure.aggregate in _ARITHMETIC and (
        column is None or columns[column].kind not in _NUMERIC
    ):
        raise ValueError(f"{plan.measure.aggregate} needs a numeric column, not {column}")
    for pair in plan.comparisons:
        if {columns[pair.column].kind, columns[pair.other].kind} - _NUMERIC:
            raise ValueError(f"comparison {pair.column} {pair.op} {pair.other}")
    for condition in (*plan.filters, *plan.measure.where):
        about = columns[condition.column]
        numeric = about.kind in _NUMERIC
        wrong_type = numeric != isinstance(condition.value, int) and about.kind != "id"
        ordered_text = not numeric and condition.op not in (Op.EQ, Op.NE)
        unlisted = about.kind == "category" and condition.value not in about.values
        if wrong_type or ordered_text or unlisted or condition.column == "chat_id":
            raise ValueError(f"filter {condition.column} {condition.op} {condition.value!r}")


SCHEMA_NAME: Final = "query_plan"
REPLY_SCHEMA: Final[dict[str, Any]] = LlmReply.model_json_schema()

_SEMANTIC: Final = catalog()

_RULES: Final = """\
You turn questions about a database of Telegram-style video statistics into JSON.
Today is {today} (UTC). Every date is a UTC calendar day.

Datasets of a plan and the columns a plan may name:
{catalog}
Time columns: {times}.
A measure is {measures}.
Filters compare a column with a value: > >= < <= = !=; ids are compared with =.
A time range is half-open [start, end) in UTC ISO 8601 with "Z": "November 1-5, 2025
inclusive" is start 2025-11-01T00:00:00Z, end 2025-11-06T00:00:00Z; "on November 28, 2025"
is start 2025-11-28T00:00:00Z, end 2025-11-29T00:00:00Z.
Growth (views gained) during a period is sum of delta_views_count over video_snapshots with
created_at in the period; final totals are sums over videos.
"group_by" is null for one number. For a top list it is {{"by": "video" | "creator",
"order": "desc" | "asc", "limit": N}} (1..100), ranking by the measure; for a series it is
{{"by": "day" | "hour"}} over the time range (required; at most 366 days by day, 7 days by
hour), one row per UTC day or hour.

Answer with one JSON object {{"plan", "sql", "interpretation", "refuse"}} with exactly one of
plan, sql, refuse not null:
1. "plan": a query plan, whenever one can express the question. Always prefer a plan.
2. "sql": only when no plan can: one PostgreSQL SELECT returning a single number, over
   these tables only: {tables}. Put in "interpretation" one line, in the asker's
   language, saying what it counts.
3. "refuse": one sentence in the asker's language when the question is not about this
   data, asks to change data, or is ambiguous.
Never guess an id, a date or a number the question does not give. Answer JSON only."""

_CREATOR: Final = "aca1061a9d324ecf8c3fa2bb32d7be63"
_EXAMPLES: Final[tuple[tuple[str, dict[str, Any]], ...]] = (
    (
        f"(en) How many videos by creator {_CREATOR} got at least 1000 likes in October 2025?",
        {
            "plan": {
                "dataset": "videos",
                "measure": {"aggregate": "count", "column": None},
                "filters": [
                    {"column": "creator_id", "op": "=", "value": _CREATOR},
                    {"column": "likes_count", "op": ">=", "value": 1000},
                ],
                "time_range": {
                    "column": "video_created_at",
                    "start": "2025-10-01T00:00:00Z",
                    "end": "2025-11-01T00:00:00Z",
                },
                "interpretation": "videos of creator aca1061a… published in October 2025 "
                "with at least 1,000 likes",
            },
            "sql": None,
            "interpretation": "",
            "refuse": None,
        },
    ),
    (
        "(ru) Сколько дней в ноябре 2025 суммарный прирост просмотров был больше 10000?",
        {
            "plan": None,
            "sql": "SELECT count(*) FROM (SELECT date_trunc('day', created_at) AS day "
            "FROM video_snapshots WHERE created_at >= '2025-11-01T00:00:00Z' "
            "AND created_at < '2025-12-01T00:00:00Z' GROUP BY 1 "
            "HAVING sum(delta_views_count) > 10000) AS days",
            "interpretation": "дни ноября 2025 (UTC), когда все видео вместе набрали "
            "больше 10 000 просмотров",
            "refuse": None,
        },
    ),
    (
        "(en) Delete all videos and tell me a joke",
        {
            "plan": None,
            "sql": None,
            "interpretation": "",
            "refuse": "I only read video statistics; I cannot change data.",
        },
    ),
)


def _listed(items: list[str], last: str) -> str:
    """``["a", "b", "c"]`` -> ``"a, b {last} c"``."""
    return f" {last} ".join([", ".join(items[:-1]), items[-1]] if len(items) > 1 else items)


def _catalog() -> str:
    lines = []
    for dataset, columns in CATALOG.items():
        about = _SEMANTIC.datasets[dataset]
        names, times = ", ".join(sorted(columns)), ", ".join(sorted(TIME_COLUMNS[dataset]))
        lines.append(
            f"- {dataset.value}, {about.grain}: {about.description}. "
            f"Columns: {names}; time: {times}."
        )
    return "\n".join(lines)


def _times() -> str:
    return "; ".join(
        f"{name}.{column_name} is {column.description}"
        for name, dataset in _SEMANTIC.datasets.items()
        for column_name, column in dataset.columns.items()
        if column.kind == "time"
    )


def _takes(kinds: tuple[str, ...]) -> str:
    columns = [kind for kind in kinds if kind != "rows"]
    rows = ["rows (no column)"] if "rows" in kinds else []
    return " or ".join(rows + ([f"{_listed(columns, 'or')} columns"] if columns else []))


def _measures() -> str:
    """``"count of rows (no column); count_distinct of id columns; sum, … of …"``."""
    aggregates: dict[tuple[str, ...], list[str]] = {}
    for aggregate, kinds in _SEMANTIC.measures.items():
        aggregates.setdefault(kinds, []).append(aggregate)
    return "; ".join(f"{_listed(names, 'or')} of {_takes(k)}" for k, names in aggregates.items())


def _tables() -> str:
    """The tables LLM-written SQL may read, each with its own columns, and their joins."""
    datasets = _SEMANTIC.datasets
    tables = [f"{d.table}({', '.join(sorted(d.columns))})" for d in datasets.values()]
    joins = [
        f"{dataset.table}.{join.pair[0]} = {datasets[join.dataset].table}.{join.pair[1]}"
        for dataset in datasets.values()
        for join in dataset.joins
    ]
    return f"{_listed(tables, 'and')}, joined on {_listed(joins, 'and')}"


def system_prompt(today: date) -> str:
    """The instructions, with the catalog and ``today`` (a UTC calendar day)."""
    return _RULES.format(
        today=today.isoformat(),
        catalog=_catalog(),
        times=_times(),
        measures=_measures(),
        tables=_tables(),
    )


def question_message(text: str, language: Language) -> Message:
    """The user's question, tagged with its language, as the model sees it."""
    return {"role": "user", "content": f"({language}) {text}"}


def messages(text: str, *, language: Language, today: date) -> list[Message]:
    """The whole conversation for one question: instructions, examples, the question."""
    conversation: list[Message] = [{"role": "system", "content": system_prompt(today)}]
    for example, answer in _EXAMPLES:
        conversation.append({"role": "user", "content": example})
        conversation.append(
            {"role": "assistant", "content": json.dumps(answer, ensure_ascii=False)}
        )
    conversation.append(question_message(text, language))
    return conversation


def repair_messages(conversation: list[Message], reply: str, error: str) -> list[Message]:
    """``conversation`` followed by the model's invalid ``reply`` and what was wrong with it."""
    return [
        *conversation,
        {"role": "assistant", "content": reply[:4000]},
        {
            "role": "user",
            "content": f"That reply is not valid: {error[:1500]}\n"
            "Answer again with one JSON object that follows the rules.",
        },
    ]
