"""Keeping one process's chat events in stream order (see ``domain.stream_order``)."""

from faststream.nats.annotations import JsClient
from nats.aio.msg import Msg
from nats.errors import NotJSMessageError

from tally.contracts.subjects import CHATS_DURABLE
from tally.ingest.chats.domain.stream_order import Split, first_newer, split_in_order


def sequence(message: Msg) -> int:
    """``message``'s sequence in its stream, read from its reply subject: token 5 of the
    9-token ``$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<time>.
    <pending>``, token 7 of the newer form with ``<domain>.<account hash>`` after ``$JS.ACK``
    and an optional random token at the end (11 or 12 tokens; NATS ADR-15), as nats-py's
    ``Msg.metadata`` reads it, which costs ten times as much (it builds every field).
    Raises NotJSMessageError when ``message`` has no such reply subject."""
    tokens = message.reply.split(".") if message.reply.startswith("$JS.ACK.") else []
    if len(tokens) == 9:
        return int(tokens[5])
    if len(tokens) >= 11:
        return int(tokens[7])
    raise NotJSMessageError


class StreamOrder:
    """Splits the fetches of the chat events consumer on ``stream`` (see domain.stream_order).

    ``committed`` is the highest sequence this process stored; JetStream's ack floor may lag
    behind it while acknowledgements are in flight, so the floor used is the higher of the
    two, and JetStream is asked only when a fetch does not simply continue it.
    """

    def __init__(self, stream: str) -> None:
        self.stream, self.committed = stream, 0

    async def split(self, js: JsClient, batch: list[Msg]) -> Split:
        """Split ``batch``: one consumer info request (about 1 ms) unless the fetch continues
        the events this process stored. When nothing older than the fetch is outstanding, a
        gap in the sequences (messages deleted from the stream) is stepped over."""
        sequences = [sequence(message) for message in batch]
        if any(
            seq <= self.committed and message.metadata.num_delivered == 1
            for seq, message in zip(sequences, batch, strict=True)
        ):
            self.committed = 0  # first deliveries below it: the stream was made anew
        floor = self.committed
        first = first_newer(sequences, floor)
        if first is None or first == floor + 1:
            return split_in_order(sequences, floor)
        info = await js.consumer_info(self.stream, CHATS_DURABLE)
        floor = max(floor, int(info.ack_floor.stream_seq))
        split = split_in_order(sequences, floor)
        first = first_newer(sequences, floor)
        if not split.ready and first is not None and info.num_ack_pending <= len(batch):
            split = split_in_order(sequences, first - 1)
        return split

    def stored(self, batch: list[Msg]) -> None:
        """Record that ``batch`` (a split's ready part, in stream order) is committed."""
        if batch:
            self.committed = max(self.committed, sequence(batch[-1]))
