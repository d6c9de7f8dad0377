"""Ask-back in the terminal: readings offered for an ambiguous question, picked by number.

On real NATS, a stand-in for nl2sql and the executor answers every question with two
readings (as nl2sql publishes them) and every planned reading with its plan's number.
"""

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from tally.cli.client import Asker, Conversation
from tally.contracts.events import Choice, QueryPlanned, QuestionAnswered, QuestionAsked
from tally.contracts.subjects import Subjects
from tally.infra.settings import CommonSettings
from tally.semantic.plan import Aggregate, Dataset, Measure, QueryPlan

TOTALS = {"views_count": 1000, "likes_count": 70}
"""The number the stand-in executor answers for each reading (a sum of this column)."""


def total(column: str) -> QueryPlan:
    measure = Measure(aggregate=Aggregate.SUM, column=column)
    return QueryPlan(dataset=Dataset.VIDEOS, measure=measure, interpretation=f"sum of {column}")


READINGS = (
    Choice(label="total views", plan=total("views_count")),
    Choice(label="total likes", plan=total("likes_count")),
)


class StandIn:
    """nl2sql and the executor as seen from the bus, recording what reached them."""

    def __init__(self, nc: Client, subjects: Subjects) -> None:
        self.nc, self.subjects = nc, subjects
        self.questions: asyncio.Queue[QuestionAsked] = asyncio.Queue()
        self.planned: asyncio.Queue[QueryPlanned] = asyncio.Queue()

    async def start(self) -> None:
        await self.nc.subscribe(self.subjects.question_asked, cb=self._on_question)
        await self.nc.subscribe(self.subjects.plan_ready, cb=self._on_plan)
        await self.nc.flush()

    async def _on_question(self, message: Msg) -> None:
        question = QuestionAsked.model_validate_json(message.data)
        await self.questions.put(question)
        await self._answer(
            QuestionAnswered(
                question=question, outcome="ambiguous", reason="Which total?", choices=READINGS
            )
        )

    async def _on_plan(self, message: Msg) -> None:
        planned = QueryPlanned.model_validate_json(message.data)
        await self.planned.put(planned)
        value = TOTALS[str(planned.plan.measure.column)]
        await self._answer(
            QuestionAnswered(question=planned.question, outcome="answered", value=value)
        )

    async def _answer(self, answer: QuestionAnswered) -> None:
        subject = self.subjects.answer(answer.question.channel, str(answer.question.question_id))
        await self.nc.publish(subject, answer.model_dump_json().encode())


@pytest.fixture
async def stand_in(settings: CommonSettings, subjects: Subjects) -> AsyncIterator[StandIn]:
    connection = await nats.connect(settings.nats_url)
    services = StandIn(connection, subjects)
    await services.start()
    yield services
    await connection.drain()


async def test_a_number_after_readings_picks_one(
    stand_in: StandIn, settings: CommonSettings
) -> None:
    """ "2" after two readings publishes the second reading's plan for the same question under
    a new id, and returns that plan's answer."""
    async with Asker(settings, timeout_s=5) as asker:
        conversation = Conversation(asker)
        offered = (await conversation.say("How many in total?")).answer
        picked = await conversation.say("2")

    question = await stand_in.questions.get()
    planned = stand_in.planned.get_nowait()
    assert offered.choices == READINGS
    assert planned.plan == READINGS[1].plan
    assert planned.question.question_id != question.question_id
    assert planned.question.text == question.text
    assert picked.answer.question.question_id == planned.question.question_id
    assert picked.answer.value == TOTALS["likes_count"]
    assert stand_in.questions.empty()


@pytest.mark.parametrize("reply", ["3", "0", "two", "2 please"])
async def test_anything_but_an_offered_number_is_a_new_question(
    stand_in: StandIn, settings: CommonSettings, reply: str
) -> None:
    """After two readings, a reply that is not "1" or "2" is asked as a question."""
    async with Asker(settings, timeout_s=5) as asker:
        conversation = Conversation(asker)
        await conversation.say("How many in total?")
        await conversation.say(reply)

    first, second = stand_in.questions.get_nowait(), stand_in.questions.get_nowait()
    assert (first.text, second.text) == ("How many in total?", reply)
    assert stand_in.planned.empty()


async def test_a_number_picks_only_right_after_the_readings(
    stand_in: StandIn, settings: CommonSettings
) -> None:
    """Once a reading is answered, "1" is a question again: readings are picked once."""
    async with Asker(settings, timeout_s=5) as asker:
        conversation = Conversation(asker)
        await conversation.say("How many in total?")
        await conversation.say("1")
        await conversation.say("1")

    assert stand_in.planned.qsize() == 1
    assert [stand_in.questions.get_nowait().text for _ in range(2)] == ["How many in total?", "1"]


async def tally_ask(settings: CommonSettings, tmp_path: Path, *args: str) -> tuple[int, str]:
    """Run ``tally ask <args>`` against this run's NATS and prefix: (exit status, stdout)."""
    env = os.environ | {
        "NATS_URL": settings.nats_url,
        "SUBJECT_PREFIX": settings.subject_prefix,
        "TALLY_HOME": str(tmp_path),
        "COLUMNS": "200",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tally.cli.main",
        "ask",
        *args,
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
    )
    stdout, _ = await process.communicate()
    return process.returncode or 0, stdout.decode()


@pytest.mark.usefixtures("stand_in")
async def test_ask_prints_the_readings_and_how_to_pick(
    settings: CommonSettings, tmp_path: Path
) -> None:
    """`tally ask` prints the reason, the numbered readings and a hint, and exits 0."""
    status, out = await tally_ask(settings, tmp_path, "How many in total?")

    assert status == 0
    assert out.splitlines() == [
        "Which total?",
        "1. total views",
        "2. total likes",
        "To pick one, ask in `tally chat` and reply with its number, or rephrase.",
    ]


@pytest.mark.usefixtures("stand_in")
async def test_ask_json_lists_the_choices_with_their_plans(
    settings: CommonSettings, tmp_path: Path
) -> None:
    """`tally ask --json` has outcome "ambiguous" and "choices" with each label and plan."""
    status, out = await tally_ask(settings, tmp_path, "--json", "How many in total?")

    result = json.loads(out)
    assert status == 0
    assert (result["outcome"], result["answer"]) == ("ambiguous", None)
    assert [
        (choice["label"], QueryPlan.model_validate(choice["plan"])) for choice in result["choices"]
    ] == [(reading.label, reading.plan) for reading in READINGS]
