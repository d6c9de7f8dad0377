"""Which events of a fetch are applied now, so chat events are applied in stream order."""

import pytest
from nats.aio.msg import Msg
from nats.errors import NotJSMessageError

from tally.ingest.chats.domain.stream_order import Split, first_newer, split_in_order
from tally.ingest.chats.order import sequence


def test_a_fetch_that_continues_the_floor_is_ready_in_stream_order() -> None:
    """Sequences 11..14 after floor 10, fetched out of order, are all ready, sorted."""
    assert split_in_order([12, 11, 14, 13], 10) == Split(stale=(), ready=(1, 0, 3, 2), later=())


def test_events_past_a_gap_wait_for_the_older_ones() -> None:
    """After floor 10, 11 and 12 are ready; 14 and 15 wait for 13, still outstanding."""
    assert split_in_order([11, 14, 12, 15], 10) == Split(stale=(), ready=(0, 2), later=(1, 3))


def test_a_fetch_that_overtakes_the_floor_is_all_later() -> None:
    """A process killed mid-batch leaves 11..20 outstanding: a fetch of 21.. waits."""
    assert split_in_order([21, 22, 23], 10) == Split(stale=(), ready=(), later=(0, 1, 2))


def test_events_already_stored_are_stale() -> None:
    """A redelivery of 9 and 10 (stored; their acknowledgement was lost) is stale; 11 goes on."""
    assert split_in_order([9, 10, 11], 10) == Split(stale=(0, 1), ready=(2,), later=())


def test_first_newer() -> None:
    assert first_newer([9, 14, 12], 10) == 12
    assert first_newer([9, 10], 10) is None


@pytest.mark.parametrize(
    "reply",
    [
        "$JS.ACK.CHAT_EVENTS.ingest-chats.3.4711.4700.1764547200000000000.12",
        "$JS.ACK.hub.ACCHASH.CHAT_EVENTS.ingest-chats.3.4711.4700.1764547200000000000.12.r4nd",
        "$JS.ACK.hub.ACCHASH.CHAT_EVENTS.ingest-chats.3.4711.4700.1764547200000000000.12",
    ],
    ids=["9 tokens", "12 tokens", "11 tokens"],
)
def test_sequence_reads_the_stream_sequence_of_either_reply_form(reply: str) -> None:
    """The stream sequence read from the old and the new ``$JS.ACK`` reply subject is
    nats-py's (``Msg.metadata``), not the consumer sequence next to it."""
    message = Msg(_client=None, subject="t.chats.-1.message", reply=reply)  # type: ignore[arg-type]
    assert sequence(message) == message.metadata.sequence.stream == 4711


@pytest.mark.parametrize(
    "reply", ["", "_INBOX.abc", "$JS.ACK.CHAT_EVENTS.ingest-chats.3.4711.4700.12"]
)
def test_sequence_of_a_message_without_a_jetstream_reply_is_refused(reply: str) -> None:
    """A reply subject that is not a JetStream acknowledgement subject raises, as nats-py's
    ``Msg.metadata`` does."""
    message = Msg(_client=None, subject="t.chats.-1.message", reply=reply)  # type: ignore[arg-type]
    with pytest.raises(NotJSMessageError):
        sequence(message)
    with pytest.raises(NotJSMessageError):
        _ = message.metadata
