"""What ``tally loadtest`` measures: answer latency per question, CPU per process, ingest lag.

Latency is from the moment the simulated Bot API's getUpdates first handed an update to the
gateway (``BotApiSimulator.handed_at``) to the moment the matching sendMessage reached it.
A reply is matched to the oldest open question of its private chat whose usual reply it is
(the replies are deterministic per question text, learnt in the warm-up): a user with two
questions in flight may get the second answered first. A repeat of a usual reply the chat
already got, matching no open question, is a duplicate.
CPU is user + system time from ``/proc/<pid>/stat`` (Linux), in seconds.
"""

import asyncio
import os
import statistics
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel
from rich.table import Table

from tally.cli.bot_api import SentMessage

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
"""Units of utime/stime in /proc/<pid>/stat per second (proc(5))."""
SERVER_COMMANDS = ("nats-server", "postgres")
"""Processes counted by command name: every process of that name on the machine."""


@dataclass
class _Asked:
    update_id: int
    text: str
    pushed_at: float
    answered: asyncio.Future[float]


STALE_S = 60.0
"""Bus events this much older than the update being split are dropped (never paired)."""


def _take(times: deque[float] | None, start: float, end: float) -> float | None:
    """Remove and return the first of ``times`` within [``start``, ``end``] (None when
    there is none), after dropping those older than ``start`` - STALE_S."""
    if not times:
        return None
    while times and times[0] < start - STALE_S:
        times.popleft()
    at = next((at for at in times if start <= at <= end), None)
    if at is not None:
        times.remove(at)
    return at


@dataclass
class Tracker:
    """Questions in flight per private chat, and what their replies measured.

    ``handed_at`` is the fake's record of when each update went to the gateway (monotonic s).
    ``usual`` is the reply each question text gets (:meth:`usual_replies` of a warm-up's
    tracker); without it, replies are matched per chat in order (first question, first
    reply), which counts two replies crossing in one chat as two inconsistent ones.
    """

    handed_at: dict[int, float]
    usual: dict[str, str] = field(default_factory=dict)
    asked: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    answered_at: list[float] = field(default_factory=list)
    unexpected: int = 0
    """Replies to a chat with no question open that are not a repeat (see ``duplicates``)."""
    duplicates: int = 0
    """Repeats of a usual reply the chat already got, matching none of its open questions:
    a question replied to twice."""
    crossed: int = 0
    """Replies matched to an open question of their chat other than the oldest: in-order
    matching would have counted each as a wrong reply (not errors)."""
    stages_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    """Per stage ("gateway in", "nl2sql + executor", "gateway out"), its share of each
    latency, from the times ``on_bus`` saw the question and its answer on the bus."""
    replies: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    _open: dict[int, deque[_Asked]] = field(default_factory=lambda: defaultdict(deque))
    _got: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))
    _bus: dict[tuple[str, int], deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def on_bus(self, hop: str, chat_id: int, at: float) -> None:
        """A question (``hop`` "asked") or answer ("answered") of ``chat_id`` seen on the bus."""
        self._bus[hop, chat_id].append(at)

    def _stages(self, chat_id: int, handed: float, sent: float) -> None:
        """Split one reply's latency at the first question of its chat seen on the bus after
        the update was handed out, and the first answer after that, both before the reply
        (none split when either is missing: an event seen late, say, is not paired with
        another question's)."""
        published = _take(self._bus.get(("asked", chat_id)), handed, sent)
        if published is None:
            return
        replied = _take(self._bus.get(("answered", chat_id)), published, sent)
        if replied is None:
            return
        self.stages_ms["gateway in"].append((published - handed) * 1000)
        self.stages_ms["nl2sql + executor"].append((replied - published) * 1000)
        self.stages_ms["gateway out"].append((sent - replied) * 1000)

    def ask(self, chat_id: int, update_id: int, text: str, now: float) -> asyncio.Future[float]:
        """Record a pushed question; the future gets its latency (ms) when answered."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._open[chat_id].append(_Asked(update_id, text, now, future))
        self.asked += 1
        return future

    def _match(self, waiting: deque[_Asked], reply: str) -> _Asked | None:
        """The oldest open question whose usual reply is ``reply``, else the oldest whose
        usual reply is not known; None when every open one expects another reply."""
        unknown = None
        for asked in waiting:
            usual = self.usual.get(asked.text)
            if usual == reply:
                return asked
            if usual is None and unknown is None:
                unknown = asked
        return unknown

    def on_sent(self, sent: SentMessage, at: float) -> None:
        """The fake's hook: match ``sent`` to an open question of its chat (see the module);
        a reply matching none is a duplicate when the chat already got it as a usual reply,
        else it answers the oldest open question (wrongly: ``inconsistent``), else it is
        ``unexpected``."""
        waiting = self._open[sent.chat_id]
        asked = self._match(waiting, sent.text)
        if asked is None and sent.text in self._got[sent.chat_id]:
            self.duplicates += 1
            return
        if asked is None and not waiting:
            self.unexpected += 1
            return
        asked = asked or waiting[0]
        self.crossed += asked is not waiting[0]
        waiting.remove(asked)
        if self.usual.get(asked.text) == sent.text:
            self._got[sent.chat_id].add(sent.text)
        handed = self.handed_at.get(asked.update_id, asked.pushed_at)
        latency_ms = (at - handed) * 1000
        self._stages(sent.chat_id, handed, at)
        self.latencies_ms.append(latency_ms)
        self.answered_at.append(at)
        self.replies[asked.text][sent.text] += 1
        if not asked.answered.done():
            asked.answered.set_result(latency_ms)

    @property
    def outstanding(self) -> int:
        return sum(len(waiting) for waiting in self._open.values())

    @property
    def inconsistent(self) -> int:
        """Replies that differ from the most common reply to the same question text (the
        answers are deterministic, so any such reply is a failure or a wrong answer)."""
        return sum(sum(c.values()) - c.most_common(1)[0][1] for c in self.replies.values() if c)

    def lost(self, start: float) -> list["LostQuestion"]:
        """The questions still open (never answered), oldest first, each with the times
        (seconds after ``start``) its chat's questions and answers were seen on the bus
        since it was handed out and not paired with a reply: an answer seen there, say, was
        published but never reached the chat."""
        lost = []
        for chat_id, waiting in self._open.items():
            for asked in waiting:
                handed = self.handed_at.get(asked.update_id, asked.pushed_at)
                seen = {hop: self._bus.get((hop, chat_id), ()) for hop in ("asked", "answered")}
                since = {
                    hop: [round(at - start, 2) for at in times if at >= handed]
                    for hop, times in seen.items()
                }
                lost.append(
                    LostQuestion(
                        chat_id=chat_id,
                        text=asked.text,
                        handed_s=round(handed - start, 2),
                        asked_s=since["asked"],
                        answered_s=since["answered"],
                    )
                )
        return sorted(lost, key=lambda question: question.handed_s)

    def usual_replies(self) -> dict[str, str]:
        """The most common reply to each question text answered (a warm-up's: ``usual``)."""
        return {text: c.most_common(1)[0][0] for text, c in self.replies.items() if c}


class LostQuestion(BaseModel):
    """A question never answered: its chat and text, when it was handed to the gateway, and
    when its chat's questions (the first and each re-ask) and answers were seen on the bus
    after that (seconds after the phase's start)."""

    chat_id: int
    text: str
    handed_s: float
    asked_s: list[float]
    answered_s: list[float]


class Latency(BaseModel):
    """Percentiles of the update -> reply latency (ms); zeros when nothing was answered."""

    p50: float = 0.0
    p95: float = 0.0
    p99: float = 0.0
    max: float = 0.0


def latency(samples: list[float]) -> Latency:
    """p50/p95/p99 by ``statistics.quantiles(n=100)`` (exclusive method, which extrapolates
    past the largest sample on small samples, so capped at it), and the maximum."""
    if len(samples) < 2:
        return Latency(**dict.fromkeys(("p50", "p95", "p99", "max"), max(samples, default=0.0)))
    cuts, top = statistics.quantiles(samples, n=100), max(samples)
    return Latency(p50=cuts[49], p95=min(cuts[94], top), p99=min(cuts[98], top), max=top)


class CpuUse(BaseModel):
    """CPU seconds of one process (or of every process of a server's name) over a phase,
    that as a share of one core over the phase's wall time, and per question asked (ms; the
    group messages of the phase are in it too). The last does not depend on how much of the
    machine other tenants took, so it says which part would bind on a quiet machine."""

    process: str
    seconds: float
    cores: float
    per_question_ms: float


def cpu_seconds(pid: int) -> float | None:
    """utime + stime of ``pid`` in seconds; None when the process is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def servers_cpu() -> dict[str, float]:
    """CPU seconds summed over every live process named like each of SERVER_COMMANDS."""
    totals = dict.fromkeys(SERVER_COMMANDS, 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if name in totals:
            totals[name] += cpu_seconds(int(entry.name)) or 0.0
    return totals


MACHINE = "machine (every process, other tenants too)"


def machine_cpu() -> float:
    """CPU seconds the whole machine has been busy (all cores; /proc/stat, not idle/iowait)."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / CLOCK_TICKS


def cpu_snapshot(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds now, per labelled process, plus the servers (see ``servers_cpu``) and the
    whole machine (``MACHINE``)."""
    taken = {label: cpu_seconds(pid) for label, pid in pids.items()}
    found = {label: s for label, s in taken.items() if s is not None}
    return found | servers_cpu() | {MACHINE: machine_cpu()}


def cpu_use(
    before: dict[str, float], after: dict[str, float], wall_s: float, questions: int
) -> list[CpuUse]:
    """Per process: seconds spent between the snapshots, most first. A server's sum over its
    processes counts only those alive at both snapshots, so it may come out short (never
    below 0: a process that exited takes its seconds with it)."""
    spent = {label: max(0.0, after[label] - before[label]) for label in after if label in before}
    used = [
        CpuUse(
            process=label,
            seconds=seconds,
            cores=seconds / wall_s if wall_s > 0 else 0.0,
            per_question_ms=seconds * 1000 / questions if questions else 0.0,
        )
        for label, seconds in spent.items()
    ]
    return sorted(used, key=lambda use: use.seconds, reverse=True)


def binding(cpu: list[CpuUse], cores: int) -> str:
    """Which part binds the ceiling, judged from CPU use: a Python process near one full core
    (it cannot use more) binds; else, when the machine's cores are nearly all busy (whoever
    uses them), the cores do. Either way, the Python process with the most CPU per question
    is named with the rate one core would give it (1000 / its ms per question)."""
    ours = [use for use in cpu if use.process != MACHINE]
    if not ours:
        return "not measured"
    top, total = ours[0], sum(use.cores for use in ours)
    machine = next((use.cores for use in cpu if use.process == MACHINE), total)
    if not top.process.startswith(SERVER_COMMANDS) and top.cores >= 0.85:
        now = f"{top.process}: {top.cores:.2f} of a core (one Python process cannot use more)"
    elif machine >= 0.85 * cores:
        now = (
            f"the machine's {cores} cores: {machine:.2f} busy, {total:.2f} of them in Tally's "
            "processes and servers (the rest: other tenants)"
        )
    else:
        now = f"nothing CPU-bound ({machine:.2f} of {cores} cores busy)"
    python = [use for use in ours if not use.process.startswith(SERVER_COMMANDS)]
    costly = max(python, key=lambda use: use.per_question_ms, default=None)
    if costly is None or costly.per_question_ms <= 0:
        return now
    return (
        f"{now}; costliest per question: {costly.process}, {costly.per_question_ms:.2f} ms "
        f"of CPU, so at most ~{1000 / costly.per_question_ms:.0f} questions/s on one core"
    )


def cpu_table(cpu: list[CpuUse], title: str) -> Table:
    """The CPU seconds as a rich table."""
    table = Table(title=title)
    for column in ("process", "CPU s", "cores", "CPU ms per question"):
        table.add_column(column, justify="left" if column == "process" else "right")
    for use in cpu:
        per_question = f"{use.per_question_ms:.2f}" if use.process != MACHINE else ""
        table.add_row(use.process, f"{use.seconds:.1f}", f"{use.cores:.2f}", per_question)
    return table
