"""The messages of the question path (questions, plans, SQL, answers), video batches, users
seen, feedback, admin audit and dead letters, as versioned pydantic models. The other
messages on the bus are in :mod:`.chat_events`, :mod:`.alerting`, :mod:`.chat_reports` and
:mod:`.ops_reports` (the list: :mod:`tally.contracts.subjects`).

Times are timezone-aware UTC datetimes; durations are milliseconds (``*_ms``).
"""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from tally.contracts.subjects import Channel
from tally.semantic.plan import QueryPlan

Language = Literal["en", "ru"]
Outcome = Literal["answered", "ambiguous", "refused", "failed"]
"""``ambiguous``: the question has several readings; the answer offers them as ``choices``."""
M = TypeVar("M", bound=BaseModel)


def utcnow() -> datetime:
    return datetime.now(UTC)


def validate_each(
    model: type[M], payloads: Iterable[Any]
) -> tuple[list[M], list[tuple[Any, ValidationError]]]:
    """Decoded message bodies of a batch as ``model``: (the valid ones, in order; each invalid
    payload with its error). One bad message does not sink the batch."""
    valid: list[M] = []
    invalid: list[tuple[Any, ValidationError]] = []
    for payload in payloads:
        try:
            valid.append(model.model_validate(payload))
        except ValidationError as error:
            invalid.append((payload, error))
    return valid, invalid


def describe(error: ValidationError) -> str:
    """``loc: message`` for each problem pydantic found (``body`` for the whole message),
    joined with ``; `` (at most 4,000 characters)."""
    problems = (
        f"{'.'.join(map(str, item['loc'])) or 'body'}: {item['msg']}" for item in error.errors()
    )
    return "; ".join(problems)[:4000]


class Event(BaseModel):
    """Base of every bus message: immutable, strict about unknown fields, versioned."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: Literal[1] = 1


class QuestionAsked(Event):
    """A person asked a question (gateway or terminal chat -> nl2sql)."""

    question_id: UUID = Field(default_factory=uuid4)
    channel: Channel
    chat_id: int
    user_id: int
    language: Language
    text: str = Field(min_length=1, max_length=2000)
    asked_at: AwareDatetime = Field(default_factory=utcnow)
    timezone: str = Field(default="UTC", max_length=64)
    """The asking chat's zone (IANA; its settings): the calendar a question about the chat
    reads its dates on. Video statistics are always read in UTC."""
    reply_to: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    """The instance that waits for the answer (a gateway's ``GATEWAY_INSTANCE``): the answer
    goes to ``answers.{channel}.{reply_to}.{question_id}``, not to the channel's queue group.
    None (the CLI, older gateways): ``answers.{channel}.{question_id}``."""


class QueryPlanned(Event):
    """nl2sql understood the question (nl2sql -> executor)."""

    question: QuestionAsked
    plan: QueryPlan
    engine: Literal["builtin", "llm"] = "builtin"
    planned_ms: float


class SqlProposed(Event):
    """SQL written by an LLM for a question no query plan can express (nl2sql -> executor).

    Untrusted: the executor runs it only after its SQL firewall accepts it, as the read-only
    role, with a statement timeout and capped rows. ``interpretation`` is the model's one-line
    statement, in the asker's language, of what the SQL counts.
    """

    question: QuestionAsked
    sql: str = Field(min_length=1, max_length=10_000)
    interpretation: str = Field(default="", max_length=500)
    engine: Literal["llm"] = "llm"
    planned_ms: float


class GroupRow(Event):
    """One row of a grouped answer: the group's ``label`` and the measure's ``value``.

    Labels: a video's UUID, a creator id, an ISO day (``2025-11-28``) or a UTC hour
    (``2025-11-28T10:00Z``). ``value`` is None for an average, minimum or maximum of no rows.
    """

    label: str = Field(max_length=100)
    value: int | float | None


class Choice(Event):
    """One reading of an ambiguous question: a label to show and the plan it stands for."""

    label: str = Field(min_length=1, max_length=200)
    plan: QueryPlan


class QuestionAnswered(Event):
    """The outcome of one question (nl2sql or executor -> the asking channel).

    ``value`` is the number (``None`` unless ``outcome == "answered"`` and the plan is not
    grouped); ``rows`` are the rows of a grouped plan (top-N in rank order, a series in time
    order); ``sql`` is the statement run, with ``params`` bound separately; ``elapsed_ms`` is
    the time spent in the database; ``total_ms`` is from ``asked_at`` to publication.
    ``choices`` (2 or 3, only when ``outcome == "ambiguous"``) are the readings to pick from:
    the picked plan is sent as a new QueryPlanned.
    ``reason`` is a sentence fit to show the user when the question was refused or failed;
    ``examples`` lists questions that can be answered.
    ``cached`` is True when the executor answered from its answer cache (tally.contracts.cache)
    without asking the database; ``elapsed_ms`` is then 0.
    """

    question: QuestionAsked
    outcome: Outcome
    value: int | float | None = None
    rows: tuple[GroupRow, ...] = ()
    choices: tuple[Choice, ...] = Field(default=(), max_length=3)
    interpretation: str | None = None
    plan: QueryPlan | None = None
    sql: str | None = None
    params: dict[str, str | int | float] = Field(default_factory=dict)
    row_count: int = 0
    elapsed_ms: float = 0.0
    total_ms: float = 0.0
    reason: str | None = None
    examples: tuple[str, ...] = ()
    engine: Literal["builtin", "llm"] | None = None
    cached: bool = False


class SnapshotRecord(Event):
    """One hourly measurement of a video, as in seed 000's ``video_snapshots``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(min_length=1, max_length=64)
    video_id: UUID
    views_count: int
    likes_count: int
    comments_count: int
    reports_count: int
    delta_views_count: int
    delta_likes_count: int
    delta_comments_count: int
    delta_reports_count: int
    created_at: AwareDatetime
    updated_at: AwareDatetime


class VideoRecord(Event):
    """One video with its final counters, as in seed 000's ``videos``."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: UUID
    creator_id: str = Field(min_length=1, max_length=64)
    video_created_at: AwareDatetime
    views_count: int
    likes_count: int
    comments_count: int
    reports_count: int
    created_at: AwareDatetime
    updated_at: AwareDatetime


class VideoBatch(Event):
    """Videos and snapshots to upsert (CLI import -> ingest over JetStream).

    A video's snapshots may span several batches; ``videos`` and ``snapshots`` are upserted
    by id, so replaying a batch leaves the same rows.
    """

    import_id: str
    batch_no: int
    videos: tuple[VideoRecord, ...] = ()
    snapshots: tuple[SnapshotRecord, ...] = ()


class BatchStored(Event):
    """ingest committed one VideoBatch (ingest -> the importing CLI)."""

    import_id: str
    batch_no: int
    videos: int
    snapshots: int


class UserSeen(Event):
    """A Telegram user talked to the bot (gateway -> ingest, stored in ``bot_users``)."""

    user_id: int
    chat_id: int
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    language_code: str | None = None
    seen_at: AwareDatetime = Field(default_factory=utcnow)


class AnswerFeedback(Event):
    """A 👍 or 👎 on an answer (gateway -> ingest, stored on the question's log row)."""

    question_id: UUID
    chat_id: int
    user_id: int
    verdict: Literal["up", "down"]
    at: AwareDatetime = Field(default_factory=utcnow)


class AdminAuditEvent(Event):
    """One use of an admin command or alert button, allowed or refused (gateway -> ingest,
    stored in ``admin_audit``).

    ``command`` is a bounded name: the command without ``/`` (``alerts``, ``analytics``...) or
    ``button:<action>`` for an alert button; ``chat_id`` is None for a press under an inline
    message (no chat); ``detail`` is the command's arguments or the button's alert group.
    """

    audit_id: UUID = Field(default_factory=uuid4)
    at: AwareDatetime = Field(default_factory=utcnow)
    user_id: int
    chat_id: int | None = None
    command: str = Field(min_length=1, max_length=32)
    allowed: bool
    detail: str = Field(default="", max_length=1000)


class DeadLetter(Event):
    """A message a consumer could not process, with the reason; replayable from its stream."""

    service: str
    subject: str
    reason: str
    payload: str
    headers: dict[str, str] = Field(default_factory=dict)
    failed_at: AwareDatetime = Field(default_factory=utcnow)
