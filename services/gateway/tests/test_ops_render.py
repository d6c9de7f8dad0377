"""The admins' reports as Telegram HTML, and the command names tally_commands_total counts."""

import pytest

from tally.contracts.ops_reports import OpsReport, Row, Section
from tally.gateway.domain import ops
from tally.gateway.telegram.middlewares import command_name


def _report(*sections: Section, error: str | None = None) -> OpsReport:
    return OpsReport(kind="metrics", category="system", sections=sections, error=error)


def test_everything_from_the_report_is_escaped() -> None:
    """Titles, labels, values and the error are text, never markup."""
    section = Section(title="<b>x</b>", rows=(Row(label="a&b", value="<i>1</i>"),))
    html = ops.render(_report(section, error="5 < 6"))
    assert html.startswith("<b>Metrics: system</b>")
    assert "<b>&lt;b&gt;x&lt;/b&gt;</b>" in html
    assert "• a&amp;b: &lt;i&gt;1&lt;/i&gt;" in html
    assert html.endswith("5 &lt; 6")


def test_a_long_report_is_cut_at_a_whole_line_within_4096() -> None:
    """Hundreds of rows: at most 4,096 characters, ending with … after a complete row."""
    rows = tuple(Row(label=f"consumer-{i}", value="<" * 40) for i in range(300))
    html = ops.render(_report(Section(title="JetStream consumers", rows=rows)))
    assert len(html) <= ops.MAX_MESSAGE_CHARS
    assert html.endswith("\n…")
    assert html.removesuffix("\n…").splitlines()[-1].endswith("&lt;" * 40)


def test_health_without_the_executor_keeps_the_gateway_line() -> None:
    html = ops.health(None)
    assert "• gateway: up · answering\n• executor: not answering" in html


def test_health_puts_the_gateway_first() -> None:
    report = OpsReport(
        kind="health",
        sections=(Section(title="Components", rows=(Row(label="executor", value="up"),)),),
    )
    lines = ops.health(report).splitlines()
    assert lines[-2:] == ["• gateway: up · answering", "• executor: up"]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("/Stats 30", "stats"),
        ("/analytics@Tally_Bot", "analytics"),
        ("/stats@other_bot", None),
        ("/", None),
        ("hello /stats", None),
        ("", None),
    ],
)
def test_command_names(text: str, name: str | None) -> None:
    """The command of a message, lower case; none for another bot's or for plain text."""
    assert command_name(text, "tally_bot") == name
