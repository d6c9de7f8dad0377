"""The report of ``tally loadtest`` on the terminal: figures per phase, latency by stage, CPU
per process, what binds, and the replica ratio."""

from rich.console import Console
from rich.table import Table

from tally.cli.load_measures import cpu_table
from tally.cli.loadtest import GATEWAY_THROTTLE_S, LoadReport, PhaseReport


def stages_table(phase: PhaseReport) -> Table:
    """Where the latency of one phase went, stage by stage (ms)."""
    table = Table(title=f"latency by stage (ms), {phase.replicas} replica(s)")
    for column in ("stage", "p50", "p95", "p99", "max"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    for stage, ms in phase.stages_ms.items():
        table.add_row(stage, *(f"{value:.1f}" for value in (ms.p50, ms.p95, ms.p99, ms.max)))
    return table


def print_report(report: LoadReport, console: Console) -> None:
    """The figures of every phase, their CPU tables, and the replica ratio."""
    table = Table(title="tally loadtest: update handed to the gateway -> reply at the Bot API (ms)")
    columns = ("replicas", "gateways", "asked", "answered", "lost", "errors", "answers/s")
    for column in (*columns, "p50", "p95", "p99", "max", "ingest lag max/end"):
        table.add_column(column, justify="right")
    for phase in report.phases:
        ms = phase.latency_ms
        table.add_row(
            *(str(v) for v in (phase.replicas, phase.gateways, phase.asked, phase.answered)),
            str(phase.unanswered),
            str(phase.errors + phase.webhook_errors),
            f"{phase.answers_per_s:.1f}",
            *(f"{value:.1f}" for value in (ms.p50, ms.p95, ms.p99, ms.max)),
            f"{phase.ingest_lag_max}/{phase.ingest_lag_end}",
        )
    console.print(table)
    for phase in report.phases:
        for lost in phase.lost:
            console.print(
                f"lost, {phase.replicas} replica(s): chat {lost.chat_id}, {lost.text!r}, handed"
                f" out at {lost.handed_s:g} s; on the bus since: its chat's questions at"
                f" {_times(lost.asked_s)}, answers at {_times(lost.answered_s)}",
                markup=False,
            )
        if phase.crossed_replies:
            console.print(
                f"{phase.crossed_replies} replies overtook an older question's reply in their"
                " chat (matched by their text: not errors)"
            )
        if phase.errors:
            console.print(
                f"errors, {phase.replicas} replica(s): {phase.wrong_replies} wrong replies,"
                f" {phase.stray_replies} replies with no question open,"
                f" {phase.duplicate_replies} duplicate replies"
            )
    first = report.phases[0]
    lowered = " (lowered from 0.5 s: users ask faster than it allows)"
    console.print(
        f"{first.users} users ({first.model} model), {first.groups} groups, "
        f"{first.duration_s:g} s; throttle {first.throttle_s:g} s"
        + (lowered if first.throttle_s < GATEWAY_THROTTLE_S else "")
    )
    for phase in report.phases:
        console.print(stages_table(phase))
        console.print(cpu_table(phase.cpu, f"CPU over the phase, {phase.replicas} replica(s)"))
        console.print(f"binds: {phase.binds}")
    if report.replica_ratio is not None:
        console.print(f"answers/s with 2 replicas / with 1: {report.replica_ratio:.2f}")


def _times(seconds: list[float]) -> str:
    return ", ".join(f"{at:g} s" for at in seconds) or "none"
