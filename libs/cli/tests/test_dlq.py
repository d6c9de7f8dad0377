"""``tally dlq`` on real JetStream, on a subject prefix of its own: letters listed (all, or
one service's), shown whole, replayed with their headers (``traceparent`` too) into the
stream that owns their subject, and purged."""

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from uuid import uuid4

import nats
import pytest
from nats.aio.client import Client
from typer.testing import CliRunner

from tally.cli.main import app as cli
from tally.contracts.events import DeadLetter
from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import Subjects

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
BIG = "x" * 200_000
"""Far more than ``nats stream view`` shows of a message."""


@pytest.fixture
def subjects() -> Subjects:
    return Subjects(f"t{uuid4().hex[:10]}")


@pytest.fixture
async def connection(nats_url: str, subjects: Subjects) -> AsyncIterator[Client]:
    connection = await nats.connect(nats_url)
    await ensure_streams(connection.jetstream(), subjects)
    yield connection
    await delete_streams(connection.jetstream(), subjects)
    await connection.close()


@pytest.fixture
def tally(nats_url: str, subjects: Subjects) -> Iterator[Any]:
    env = {"NATS_URL": nats_url, "SUBJECT_PREFIX": subjects.prefix, "NATS_USER": None}

    async def run(*args: str) -> tuple[int, str]:
        """``tally dlq ARGS`` in a thread (the command runs an event loop of its own)."""
        result = await asyncio.to_thread(CliRunner().invoke, cli, ["dlq", *args], env=env)
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output

    yield run


async def _listed_nothing(tally: Any) -> bool:
    """``tally dlq ls`` exits 0 saying there are no dead letters. Only its last line is read:
    CliRunner swaps the process's stdout, so a log line another test's broker in this
    process prints meanwhile can land in the captured output."""
    code, output = await tally("ls")
    return code == 0 and output.splitlines()[-1:] == ["No dead letters."]


async def _dead_letter(connection: Client, subjects: Subjects, letter: DeadLetter) -> int:
    js = connection.jetstream()
    ack = await js.publish(subjects.dead_letter(letter.service), letter.model_dump_json().encode())
    return ack.seq


def _chat_letter(subjects: Subjects, msg_id: str, payload: str) -> DeadLetter:
    return DeadLetter(
        service="ingest",
        subject=subjects.chat_event(-100123, "message"),
        reason="database refused it",
        payload=payload,
        headers={"traceparent": TRACEPARENT, "Nats-Msg-Id": msg_id, "x-tally": "kept"},
    )


async def test_list_show_and_purge(connection: Client, subjects: Subjects, tally: Any) -> None:
    """``ls`` lists every letter or one service's; ``show`` prints one whole; ``purge
    --service`` deletes that service's only, ``purge`` the rest."""
    assert await _listed_nothing(tally)
    first = await _dead_letter(connection, subjects, _chat_letter(subjects, "m1", BIG))
    await _dead_letter(
        connection,
        subjects,
        DeadLetter(service="alerts", subject="t.alerts.firing", reason="not JSON", payload="{"),
    )
    code, listed = await tally("ls")
    assert code == 0 and "ingest" in listed and "alerts" in listed and "not JSON" in listed
    code, listed = await tally("ls", "--service", "alerts")
    assert code == 0 and "ingest" not in listed and "not JSON" in listed
    code, shown = await tally("show", str(first))
    letter = json.loads(shown)
    assert code == 0 and letter["id"] == first and letter["payload"] == BIG
    assert letter["headers"]["traceparent"] == TRACEPARENT
    code, missing = await tally("show", "999")
    assert code == 2 and "No dead letter 999" in missing
    assert await tally("purge", "--service", "alerts", "--yes") == (0, "Purged 1 dead letters.\n")
    code, listed = await tally("ls")
    assert "ingest" in listed and "alerts" not in listed
    assert await tally("purge", "--yes") == (0, "Purged 1 dead letters.\n")
    assert await _listed_nothing(tally)


async def test_replay_keeps_headers(connection: Client, subjects: Subjects, tally: Any) -> None:
    """A replayed chat event is stored again in CHAT_EVENTS with its payload and headers
    (``traceparent`` too) and leaves the dead letters; while JetStream remembers its
    ``Nats-Msg-Id`` a second replay is dropped (exit 1, letter kept) until ``--new-msg-id``."""
    js = connection.jetstream()
    payload = json.dumps({"event": "as it came", "text": BIG})
    subscription = await js.subscribe(subjects.chat_events_all, ordered_consumer=True)
    seqs = [await _dead_letter(connection, subjects, _chat_letter(subjects, "m2", payload))]
    seqs.append(await _dead_letter(connection, subjects, _chat_letter(subjects, "m2", payload)))
    code, output = await tally("replay", str(seqs[0]))
    assert code == 0 and f"stored again in {subjects.chat_events_stream}" in output
    replayed = await subscription.next_msg(timeout=5)
    assert replayed.subject == subjects.chat_event(-100123, "message")
    assert replayed.data.decode() == payload
    assert replayed.headers is not None
    assert replayed.headers["traceparent"] == TRACEPARENT
    assert replayed.headers["x-tally"] == "kept" and replayed.headers["Nats-Msg-Id"] == "m2"
    code, output = await tally("replay", str(seqs[1]))
    assert code == 1 and "duplicate" in output
    code, listed = await tally("ls")
    assert str(seqs[0]) not in listed.split() and str(seqs[1]) in listed.split()
    code, output = await tally("replay", "--new-msg-id", str(seqs[1]))
    assert code == 0 and "stored again" in output
    again = await subscription.next_msg(timeout=5)
    assert again.headers is not None and again.headers["traceparent"] == TRACEPARENT
    assert again.headers["Nats-Msg-Id"] != "m2"
    assert await _listed_nothing(tally)


async def test_replay_to_a_core_subject(connection: Client, subjects: Subjects, tally: Any) -> None:
    """A letter whose subject no stream keeps is published to whoever subscribes, headers
    included; ``--keep`` leaves the letter."""
    subscription = await connection.subscribe(subjects.question_asked)
    letter = DeadLetter(
        service="nl2sql",
        subject=subjects.question_asked,
        reason="invalid",
        payload='{"q": 1}',
        headers={"traceparent": TRACEPARENT},
    )
    seq = await _dead_letter(connection, subjects, letter)
    code, output = await tally("replay", "--keep", str(seq))
    assert code == 0 and "published (no stream keeps its subject)" in output
    message = await subscription.next_msg(timeout=5)
    assert message.data == b'{"q": 1}' and message.headers == {"traceparent": TRACEPARENT}
    assert str(seq) in (await tally("ls"))[1].split()


async def test_a_prefix_without_streams_is_a_sentence(tally: Any) -> None:
    """No DEAD_LETTERS stream (a wrong SUBJECT_PREFIX): exit 2 and what to do."""
    code, output = await tally("ls")
    assert code == 2 and "declare-streams" in output
