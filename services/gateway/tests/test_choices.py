"""Ask-back in Telegram: an ambiguous answer's readings as buttons; the asker's press plans one."""

from uuid import uuid4

import pytest
from nats.aio.client import Client
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tally.contracts.events import Choice, QueryPlanned, QuestionAnswered, QuestionAsked
from tally.contracts.subjects import Subjects
from tally.gateway.config import GatewaySettings
from tally.gateway.domain.memory import PickRefusal
from tally.gateway.domain.texts import MAX_BUTTON_CHARS, shorten
from tally.gateway.shared import GatewayState, SharedChoices
from tally.semantic.plan import Aggregate, Dataset, Measure, QueryPlan
from tally.testing.kv import MemoryKeyValue
from tally.testing.telegram import FakeTelegram

LONG_LABEL = "views gained by every video on each day of November 2025, all creators together"


def total(column: str, dataset: Dataset = Dataset.VIDEOS) -> QueryPlan:
    measure = Measure(aggregate=Aggregate.SUM, column=column)
    return QueryPlan(dataset=dataset, measure=measure, interpretation=f"sum of {column}")


def ambiguous(user_id: int, language: str = "en") -> QuestionAnswered:
    """What nl2sql publishes for "How many views?": two readings to pick from."""
    question = QuestionAsked(
        channel="telegram", chat_id=user_id, user_id=user_id, language=language, text="Views?"
    )
    return QuestionAnswered(
        question=question,
        outcome="ambiguous",
        reason="Which views do you mean?",
        choices=(
            Choice(label="views of all videos now", plan=total("views_count")),
            Choice(label=LONG_LABEL, plan=total("delta_views_count", Dataset.SNAPSHOTS)),
        ),
    )


async def publish(nc: Client, subjects: Subjects, answer: QuestionAnswered) -> None:
    subject = subjects.answer("telegram", str(answer.question.question_id))
    await nc.publish(subject, answer.model_dump_json().encode())
    await nc.flush()


def test_shorten_keeps_short_labels_and_cuts_long_ones() -> None:
    """A label within the limit is kept; a longer one is cut to the limit, ending in "…"."""
    assert shorten("views of all videos now") == "views of all videos now"
    cut = shorten(LONG_LABEL)
    assert len(cut) == MAX_BUTTON_CHARS and cut.endswith("…")
    assert LONG_LABEL.startswith(cut[:-1])


def shared_choices() -> SharedChoices:
    state = GatewayState(Subjects("unit"))
    state.use(MemoryKeyValue())
    return SharedChoices(state)


async def test_a_reading_is_picked_once_and_only_by_its_asker() -> None:
    """Someone else's pick is refused and changes nothing; the asker's plans the reading and
    marks the question picked; an unknown question or reading is expired."""
    pending = shared_choices()
    answer = ambiguous(user_id=7)
    question_id = answer.question.question_id
    await pending.offer(answer)

    assert await pending.pick(question_id, 2, user_id=8) is PickRefusal.NOT_YOURS
    assert await pending.pick(question_id, 3, user_id=7) is PickRefusal.EXPIRED
    planned = await pending.pick(question_id, 2, user_id=7)
    assert isinstance(planned, QueryPlanned)
    assert planned.plan == answer.choices[1].plan
    assert await pending.pick(question_id, 2, user_id=7) is PickRefusal.EXPIRED
    assert await pending.pick(uuid4(), 1, user_id=7) is PickRefusal.EXPIRED


@pytest.mark.usefixtures("gateway")
async def test_ambiguous_answer_offers_one_button_per_reading(
    telegram: FakeTelegram, nc: Client, subjects: Subjects, user_id: int
) -> None:
    """The reply gives the reason and the numbered readings in full, and one button per
    reading (label shortened, callback data ``pick:<question id, 32 hex digits>:<n>``)."""
    answer = ambiguous(user_id)

    await publish(nc, subjects, answer)
    [reply] = await telegram.wait_sent(chat_id=user_id)

    assert reply.text.splitlines() == [
        "Which views do you mean?",
        "1. views of all videos now",
        f"2. {LONG_LABEL}",
    ]
    rows = reply.reply_markup["inline_keyboard"]  # type: ignore[index]
    question_id = answer.question.question_id
    assert [[button["text"] for button in row] for row in rows] == [
        ["views of all videos now"],
        [shorten(LONG_LABEL)],
    ]
    assert [row[0]["callback_data"] for row in rows] == [
        f"pick:{question_id.hex}:1",
        f"pick:{question_id.hex}:2",
    ]


@pytest.mark.usefixtures("gateway")
async def test_the_askers_pick_is_planned_in_a_trace_of_its_own(
    telegram: FakeTelegram,
    nc: Client,
    subjects: Subjects,
    user_id: int,
    spans: InMemorySpanExporter,
    gateway_settings: GatewaySettings,
) -> None:
    """Pressing reading 2 publishes its plan for the same question under a new id, its answer
    to come to this gateway, inside a "telegram pick" span; the buttons go away and a second
    press finds the question expired."""
    planned_box = await nc.subscribe(subjects.plan_ready)
    answer = ambiguous(user_id)
    await publish(nc, subjects, answer)
    [reply] = await telegram.wait_sent(chat_id=user_id)
    data = reply.reply_markup["inline_keyboard"][1][0]["callback_data"]  # type: ignore[index]

    press = await telegram.wait_press(
        telegram.push_callback(user_id, user_id, data), buttons_removed=True
    )
    message = await planned_box.next_msg(timeout=5)
    planned = QueryPlanned.model_validate_json(message.data)

    assert press.notice is None
    assert planned.plan == answer.choices[1].plan
    assert (planned.engine, planned.planned_ms) == ("builtin", 0)
    original, picked = answer.question, planned.question
    assert picked.question_id != original.question_id
    assert picked.asked_at > original.asked_at
    assert picked.reply_to == gateway_settings.gateway_instance
    assert picked.model_dump(exclude={"question_id", "asked_at", "reply_to"}) == (
        original.model_dump(exclude={"question_id", "asked_at", "reply_to"})
    )
    trace_id = (message.headers or {})["traceparent"].split("-")[1]
    [pick] = [
        span
        for span in spans.get_finished_spans()
        if span.name == "telegram pick"
        and span.attributes
        and span.attributes["tally.question_id"] == str(picked.question_id)
    ]
    assert format(pick.context.trace_id, "032x") == trace_id
    again = await telegram.wait_press(telegram.push_callback(user_id, user_id, data))
    assert again.notice == "This question has expired, please ask again."
    with pytest.raises(TimeoutError):
        await planned_box.next_msg(timeout=0.5)


@pytest.mark.usefixtures("gateway")
async def test_someone_elses_press_is_refused(
    telegram: FakeTelegram, nc: Client, subjects: Subjects, user_id: int
) -> None:
    """A press by another user gets a short notice and publishes nothing; the asker still can."""
    planned_box = await nc.subscribe(subjects.plan_ready)
    answer = ambiguous(user_id)
    await publish(nc, subjects, answer)
    await telegram.wait_sent(chat_id=user_id)
    data = f"pick:{answer.question.question_id.hex}:1"

    other = await telegram.wait_press(telegram.push_callback(user_id, -user_id, data))
    with pytest.raises(TimeoutError):
        await planned_box.next_msg(timeout=0.5)
    await telegram.wait_press(telegram.push_callback(user_id, user_id, data))
    planned = QueryPlanned.model_validate_json((await planned_box.next_msg(timeout=5)).data)

    assert other.notice == "Only the person who asked can pick a reading."
    assert not other.buttons_removed
    assert planned.plan == answer.choices[0].plan


@pytest.mark.usefixtures("gateway")
@pytest.mark.parametrize(
    ("language_code", "notice"),
    [
        ("en", "This question has expired, please ask again."),
        ("ru", "Этот вопрос устарел, задайте его, пожалуйста, ещё раз."),
    ],
)
async def test_an_unknown_pick_has_expired(
    telegram: FakeTelegram,
    nc: Client,
    subjects: Subjects,
    user_id: int,
    language_code: str,
    notice: str,
) -> None:
    """A press for a question no gateway offered (or offered over a day ago) says to ask
    again, in the presser's language, and publishes nothing."""
    planned_box = await nc.subscribe(subjects.plan_ready)
    data = f"pick:{uuid4().hex}:2"

    press = await telegram.wait_press(
        telegram.push_callback(user_id, user_id, data, language_code=language_code)
    )

    assert press.notice == notice
    with pytest.raises(TimeoutError):
        await planned_box.next_msg(timeout=0.5)
