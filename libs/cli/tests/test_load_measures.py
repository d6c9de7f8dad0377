"""What `tally loadtest` computes from what it saw: replies matched to questions, percentiles,
CPU per question and which process binds."""

from tally.cli.bot_api import SentMessage
from tally.cli.load_measures import MACHINE, CpuUse, Tracker, binding, cpu_use, latency


async def test_replies_match_questions_per_chat_in_order() -> None:
    """Each reply answers the oldest open question of its chat; latency runs from the moment
    the update was handed out; a reply to a chat with nothing open, or one that differs from
    the usual reply to the same text, is counted as an error."""
    tracker = Tracker(handed_at={1: 10.0, 2: 10.5, 3: 11.0})
    first = tracker.ask(7, 1, "How many videos?", now=9.0)
    tracker.ask(7, 2, "How many videos?", now=9.5)
    tracker.ask(8, 3, "How many videos?", now=10.0)
    tracker.on_sent(SentMessage(chat_id=7, text="300"), 10.02)
    tracker.on_sent(SentMessage(chat_id=8, text="300"), 11.1)
    tracker.on_sent(SentMessage(chat_id=7, text="Something went wrong"), 10.6)
    tracker.on_sent(SentMessage(chat_id=9, text="300"), 12.0)
    assert abs(await first - 20.0) < 1e-6
    assert [round(ms) for ms in tracker.latencies_ms] == [20, 100, 100]
    assert tracker.outstanding == 0 and tracker.unexpected == 1 and tracker.inconsistent == 1


USUAL = {"How many videos?": "300", "Top 5 videos": "1. a 2. b", "Weather?": "I can't"}
"""The usual reply to each question text, as a warm-up learns it."""


async def test_replies_that_cross_in_one_chat_are_not_errors() -> None:
    """A user with two questions in flight gets the second answered first: each reply is
    matched to the question it answers, with its own latency, and nothing is an error."""
    warm = Tracker(handed_at={})
    for update_id, (text, reply) in enumerate(USUAL.items()):
        warm.ask(1, update_id, text, now=0.0)
        warm.on_sent(SentMessage(chat_id=1, text=reply), 0.1)
    tracker = Tracker(handed_at={1: 10.0, 2: 14.0}, usual=warm.usual_replies())
    first = tracker.ask(7, 1, "How many videos?", now=10.0)
    second = tracker.ask(7, 2, "Top 5 videos", now=14.0)
    tracker.on_sent(SentMessage(chat_id=7, text="1. a 2. b"), 14.5)
    tracker.on_sent(SentMessage(chat_id=7, text="300"), 15.0)
    assert round(await first) == 5000 and round(await second) == 500
    assert tracker.outstanding == 0 and tracker.crossed == 1
    assert (tracker.inconsistent, tracker.unexpected, tracker.duplicates) == (0, 0, 0)


async def test_a_reply_sent_twice_is_a_duplicate() -> None:
    """The same reply again, whether another question of the chat is open or none: a
    duplicate each time (not a wrong answer to the open one, which stays open until its own
    reply); a reply the chat never got, with nothing open, is a stray one; a wrong reply
    still answers the oldest open question."""
    tracker = Tracker(handed_at={}, usual=USUAL)
    tracker.ask(7, 1, "How many videos?", now=10.0)
    tracker.ask(7, 2, "Top 5 videos", now=14.0)
    tracker.on_sent(SentMessage(chat_id=7, text="300"), 14.1)
    tracker.on_sent(SentMessage(chat_id=7, text="300"), 14.2)
    assert tracker.duplicates == 1 and tracker.outstanding == 1
    tracker.on_sent(SentMessage(chat_id=7, text="1. a 2. b"), 14.5)
    tracker.on_sent(SentMessage(chat_id=7, text="1. a 2. b"), 14.6)
    tracker.on_sent(SentMessage(chat_id=7, text="Something went wrong"), 14.7)
    assert (tracker.duplicates, tracker.unexpected, tracker.outstanding) == (2, 1, 0)
    tracker.ask(7, 3, "Weather?", now=15.0)
    tracker.ask(7, 4, "How many videos?", now=19.0)
    tracker.on_sent(SentMessage(chat_id=7, text="Something went wrong"), 20.0)
    tracker.on_sent(SentMessage(chat_id=7, text="300"), 20.1)
    assert tracker.outstanding == 0 and tracker.replies["Weather?"] == {"Something went wrong": 1}
    assert (tracker.duplicates, tracker.unexpected) == (2, 1)


async def test_the_stage_split_pairs_each_reply_with_its_own_bus_events() -> None:
    """A question seen on the bus only after its reply is not split (nor paired with the
    next question's reply); a re-ask's second question and answer on the bus are not paired
    with the next question: each split lies between its update and its reply."""
    tracker = Tracker(handed_at={1: 10.0, 2: 14.0, 3: 20.0, 4: 24.0})
    for update_id, at in ((1, 10.0), (2, 14.0), (3, 20.0), (4, 24.0)):
        tracker.ask(7, update_id, "How many videos?", now=at)
    bus = [(at, "asked") for at in (10.6, 14.01, 20.01, 22.01, 24.01)]
    bus += [(at, "answered") for at in (10.3, 14.05, 22.05, 22.06, 24.02)]
    replies = [(at, "reply") for at in (10.5, 14.1, 22.1, 24.03)]
    for at, what in sorted(bus + replies):
        if what == "reply":
            tracker.on_sent(SentMessage(chat_id=7, text="300"), at)
        else:
            tracker.on_bus(what, 7, at)
    rounded = {stage: [round(ms) for ms in split] for stage, split in tracker.stages_ms.items()}
    assert rounded == {
        "gateway in": [10, 10, 10],
        "nl2sql + executor": [40, 2040, 10],
        "gateway out": [50, 50, 10],
    }


async def test_a_lost_question_says_what_the_bus_saw_of_its_chat() -> None:
    """A question never answered is reported with its chat, text and the time it was handed
    out, and the unpaired bus events of its chat since then (here its question asked twice
    and an answer that never reached the chat), seconds after the phase's start."""
    tracker = Tracker(handed_at={1: 100.0, 2: 101.0}, usual=USUAL)
    tracker.ask(7, 1, "How many videos?", now=100.0)
    tracker.ask(8, 2, "Top 5 videos", now=101.0)
    for hop, chat_id, at in (("asked", 7, 99.0), ("asked", 7, 100.1), ("answered", 7, 100.2)):
        tracker.on_bus(hop, chat_id, at)
    tracker.on_bus("asked", 8, 101.1)
    tracker.on_bus("answered", 8, 101.2)
    tracker.on_sent(SentMessage(chat_id=8, text="1. a 2. b"), 101.3)
    tracker.on_bus("asked", 7, 102.1)

    (lost,) = tracker.lost(start=95.0)

    assert (lost.chat_id, lost.text, lost.handed_s) == (7, "How many videos?", 5.0)
    assert (lost.asked_s, lost.answered_s) == ([5.1, 7.1], [5.2])


def test_percentiles_never_pass_the_maximum() -> None:
    """On few samples the exclusive quantiles would extrapolate past the largest; they stop
    at it. One sample gives that sample everywhere, none gives zeros."""
    few = latency([10.0, 20.0, 30.0])
    assert few.p99 == few.max == 30.0 and few.p50 == 20.0
    assert latency([5.0]).p95 == 5.0 and latency([]).max == 0.0


def test_cpu_per_question_and_the_process_that_binds() -> None:
    """CPU seconds over the wall time are cores, over the questions ms each; the Python
    process with most ms per question is named with the rate one core would give it."""
    before = {"gateway#1": 1.0, "nl2sql#1": 1.0, "nats-server": 0.0, MACHINE: 0.0}
    after = {"gateway#1": 6.0, "nl2sql#1": 2.0, "nats-server": 1.0, MACHINE: 19.0}
    used = cpu_use(before, after, wall_s=10.0, questions=1000)
    gateway = next(use for use in used if use.process == "gateway#1")
    assert (gateway.cores, gateway.per_question_ms) == (0.5, 5.0)
    verdict = binding(used, cores=2)
    assert verdict.startswith("the machine's 2 cores") and "gateway#1, 5.00 ms" in verdict
    assert "~200 questions/s" in verdict
    busy = [CpuUse(process="executor#1", seconds=9.5, cores=0.95, per_question_ms=9.5)]
    assert binding(busy, cores=2).startswith("executor#1: 0.95 of a core")
