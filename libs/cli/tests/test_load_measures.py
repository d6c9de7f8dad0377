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
