"""`tally ask --json` output: a grouped answer's rows, as label and value pairs."""

import json

from tally.cli.client import Asked
from tally.cli.main import _as_json
from tally.contracts.events import GroupRow, QuestionAnswered, QuestionAsked


def _asked(*rows: GroupRow, value: int | None = None) -> Asked:
    question = QuestionAsked(channel="cli", chat_id=0, user_id=0, language="en", text="q")
    answer = QuestionAnswered(question=question, outcome="answered", value=value, rows=rows)
    return Asked(answer=answer, trace_id="0" * 32, elapsed_ms=1.0)


def test_rows_are_printed_in_order_with_their_values() -> None:
    """Each row is {"label", "value"}, in the answer's order; no value is null."""
    printed = json.loads(
        _as_json(_asked(GroupRow(label="2025-11-28", value=12), GroupRow(label="b", value=None)))
    )
    assert printed["rows"] == [{"label": "2025-11-28", "value": 12}, {"label": "b", "value": None}]
    assert printed["answer"] is None


def test_a_single_number_has_no_rows() -> None:
    """An ungrouped answer keeps its number under "answer" and an empty "rows"."""
    printed = json.loads(_as_json(_asked(value=7)))
    assert (printed["answer"], printed["rows"]) == (7, [])
