"""The admins' operations reports as Telegram HTML (pure).

Every piece of text from the report is escaped; the message is cut at a whole line to stay
within Telegram's 4,096 characters (https://core.telegram.org/bots/api#sendmessage).
"""

from html import escape
from typing import Final

from tally.contracts.ops_reports import METRICS_CATEGORIES, OpsReport, Row, Section

MAX_MESSAGE_CHARS: Final = 4096
CUT: Final = "\n…"
NOT_ANSWERING: Final = "executor: not answering"
"""What a report says when the executor did not reply in time."""
GATEWAY_UP: Final = Row(label="gateway", value="up · answering")
USAGE: Final = f"Usage: /metrics [{'|'.join(METRICS_CATEGORIES)}]"

TITLES: Final = {"analytics": "Analytics", "health": "Health", "metrics": "Metrics"}


def usage() -> str:
    """The /metrics usage line, listing its categories."""
    return escape(USAGE)


def _section(section: Section) -> list[str]:
    lines = [f"\n<b>{escape(section.title)}</b>"]
    lines += [f"• {escape(row.label)}: {escape(row.value)}" for row in section.rows]
    return lines


def _fit(lines: list[str], limit: int = MAX_MESSAGE_CHARS) -> str:
    """``lines`` joined, cut at a whole line (then ending with …) to at most ``limit``."""
    kept: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > limit - len(CUT):
            return "\n".join(kept) + CUT
        kept.append(line)
        used += len(line) + 1
    return "\n".join(kept)


def render(report: OpsReport) -> str:
    """The report as HTML: a bold title, then each section's bold title and its
    ``• label: value`` rows; the executor's error sentence after what it could read."""
    title = TITLES[report.kind]
    if report.category:
        title += f": {report.category}"
    lines = [f"<b>{escape(title)}</b>"]
    for section in report.sections:
        lines += _section(section)
    if report.error:
        lines.append(f"\n{escape(report.error)}")
    return _fit(lines)


def health(report: OpsReport | None) -> str:
    """/health: the gateway's own line first, then the executor's checks, or
    :data:`NOT_ANSWERING` when it did not reply (``report`` None)."""
    if report is None:
        executor = Row(label="executor", value="not answering")
        return render(OpsReport(kind="health", sections=(_health_section(executor),)))
    first, *rest = report.sections or (Section(title="Components"),)
    merged = Section(title=first.title, rows=(GATEWAY_UP, *first.rows))
    return render(report.model_copy(update={"sections": (merged, *rest)}))


def _health_section(executor: Row) -> Section:
    return Section(title="Components", rows=(GATEWAY_UP, executor))


def not_answering(kind: str) -> str:
    """The reply to /analytics or /metrics when the executor did not reply in time."""
    title = escape(TITLES.get(kind, kind))
    return f"<b>{title}</b>\n{escape(NOT_ANSWERING)}; try again in a minute."
