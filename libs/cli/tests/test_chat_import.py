"""`tally import-chat` without a server: the text decision, the summary, and the refusals
made before any connection."""

import json
from collections import Counter
from pathlib import Path

from typer.testing import CliRunner

from tally.cli.chat_import import ChatImport, summary, text_choice
from tally.cli.main import app as cli
from tally.contracts.chat_events import ChatSettings
from tally.contracts.chat_export import ExportedChat, Tally

CHAT = -1_001_777_000_001


def test_the_chats_stored_setting_decides_whether_text_travels() -> None:
    """Stored settings decide; with none, only --with-text sends text."""
    assert text_choice(ChatSettings(store_text=True), with_text=False)[0]
    assert not text_choice(ChatSettings(store_text=False), with_text=True)[0]
    assert text_choice(None, with_text=True)[0]
    keep, why = text_choice(None, with_text=False)
    assert not keep and "--with-text" in why


def test_the_summary_says_how_many_were_skipped() -> None:
    tally = Tally(Counter({"message": 3, "member": 1}), Counter({"no date": 2}), 1, 0)
    report = ChatImport(ExportedChat(CHAT, "supergroup", "G"), tally, 4, 4, "why", "stored")
    text = "\n".join(summary(report))
    assert "4 events (3 messages, 1 joins and leaves)" in text
    assert "Skipped 2 messages" in text and "2 × no date" in text
    assert "1 joins or leaves" in text


def test_the_command_refuses_a_missing_or_foreign_file_without_a_traceback(
    tmp_path: Path,
) -> None:
    """Exit code 2 and one sentence, before any connection is tried."""
    environment = {"NATS_URL": "nats://127.0.0.1:1", "DATABASE_URL": "postgresql://x@127.0.0.1:1/x"}
    missing = CliRunner().invoke(cli, ["import-chat", str(tmp_path / "nope.json")], env=environment)
    assert missing.exit_code == 2 and "Cannot open" in missing.output
    assert "Traceback" not in missing.output
    channel = tmp_path / "result.json"
    channel.write_text(json.dumps({"name": "N", "type": "public_channel", "id": 1, "messages": []}))
    refused = CliRunner().invoke(cli, ["import-chat", str(tmp_path)], env=environment)
    assert refused.exit_code == 2 and "not a group" in refused.output
