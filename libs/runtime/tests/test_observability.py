"""Metric labels and span names stay bounded: ids in subjects become `*`; dead letters are
counted by service and reason kind."""

import asyncio

import nats
from faststream.nats import NatsRouter
from prometheus_client import CollectorRegistry

from tally.contracts.events import QuestionAnswered, QuestionAsked, UserSeen
from tally.contracts.subjects import Subjects
from tally.infra.settings import CommonSettings
from tally.runtime.broker import create_broker
from tally.runtime.observability import subject_pattern


def test_ids_become_wildcards() -> None:
    """UUIDs, long hex ids and integers are replaced; words are kept."""
    assert subject_pattern("tally.answers.cli.0b9f5a2e-3c1d-4e5f-8a9b-0c1d2e3f4a5b") == (
        "tally.answers.cli.*"
    )
    assert subject_pattern("tally.imports.aca1061a9d324ecf8c3fa2bb32d7be63") == "tally.imports.*"
    assert subject_pattern("tally.chats.-100123.messages") == "tally.chats.*.messages"
    assert subject_pattern("tally.questions.asked") == "tally.questions.asked"


async def test_one_series_for_many_questions(settings: CommonSettings, subjects: Subjects) -> None:
    """Publishing answers for 20 questions leaves one `destination` label value."""
    registry = CollectorRegistry()
    broker = create_broker(settings, service="probe", registry=registry)
    router = NatsRouter()
    answers = router.publisher(subjects.answers_all)
    broker.include_router(router)
    await broker.start()
    client = await nats.connect(settings.nats_url)
    try:
        for n in range(20):
            question = QuestionAsked(channel="cli", chat_id=n, user_id=n, language="en", text="q")
            answer = QuestionAnswered(question=question, outcome="refused", reason="test")
            await answers.publish(answer, subjects.answer("cli", str(question.question_id)))
    finally:
        await client.close()
        await broker.stop()
    names = {
        sample.labels["destination"]
        for metric in registry.collect()
        for sample in metric.samples
        if "destination" in sample.labels
    }
    assert names == {subjects.answers_for("cli")}


async def test_dead_letters_are_counted_by_reason_kind(
    settings: CommonSettings, subjects: Subjects, streams: None
) -> None:
    """A body that is not JSON counts as ``decode``, JSON that is not the event as
    ``validation``; both under the consuming service, served from its registry."""
    registry = CollectorRegistry()
    broker = create_broker(settings, service="probe-dlq", registry=registry)
    router = NatsRouter()
    subject = f"{subjects.prefix}.probe.dlq"
    handled: list[UserSeen] = []

    @router.subscriber(subject)
    async def consume(seen: UserSeen) -> None:
        handled.append(seen)

    broker.include_router(router)

    def count(kind: str) -> float:
        labels = {"service": "probe-dlq", "reason_kind": kind}
        return registry.get_sample_value("tally_dead_letters_total", labels) or 0.0

    before = count("decode"), count("validation")
    await broker.start()
    client = await nats.connect(settings.nats_url)
    try:
        await client.publish(subject, b"{not json")
        await client.publish(subject, b'{"user_id": "nobody"}')
        for _ in range(100):
            if count("decode") - before[0] + count("validation") - before[1] == 2:
                break
            await asyncio.sleep(0.05)
    finally:
        await client.close()
        await broker.stop()
    assert (count("decode") - before[0], count("validation") - before[1]) == (1, 1)
    assert handled == []
