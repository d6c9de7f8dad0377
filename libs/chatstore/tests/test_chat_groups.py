"""A batch split by chat into concurrent transactions (``ChatWriter.ways``): the groups, and
what the split write reports (refused events, text not stored) by the batch's indexes, on a
real PostgreSQL, with the groups' transactions open at the same time."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.chatstore.write.writer import ChatWriter, chat_groups
from tally.contracts.chat_events import ChatEvent, ChatUser, MessagePosted, ReactionChanged
from tally.infra.db.session import create_engine
from tests.factories.chat_rows import remove_chats

CHATS = (-100_910_001, -100_910_002, -100_910_003)
ANN = ChatUser(user_id=9_910_001, username="ann")
START = datetime(2025, 10, 1, 9, tzinfo=UTC)


def _posted(chat_id: int, n: int, text: str | None = None) -> MessagePosted:
    return MessagePosted(
        event_id=f"{chat_id}:{n}",
        chat_id=chat_id,
        occurred_at=START + timedelta(minutes=n),
        message_id=n,
        sender=ANN,
        text=text,
        word_count=1,
    )


def test_groups_keep_each_chat_whole_and_in_stream_order() -> None:
    """Chats of 5, 3, 2 and 2 events in two ways: each chat whole, the largest first into the
    smaller group, gives 5+2 | 3+2 (the best there is: no chats make 6), each group in stream
    order, every event in one group."""
    sizes = dict(zip((1, 2, 3, 4), (5, 3, 2, 2), strict=True))
    events: list[ChatEvent] = [
        _posted(chat_id, n) for n in range(5) for chat_id, size in sizes.items() if n < size
    ]
    groups = chat_groups(events, 2)
    assert sorted(map(len, groups)) == [5, 7]
    for group in groups:
        assert group == sorted(group)
        chats = {events[index].chat_id for index in group}
        assert all(events[i].chat_id not in chats for g in groups if g is not group for i in g)
    assert sorted(index for group in groups for index in group) == list(range(len(events)))


def test_one_chat_or_one_way_is_one_group() -> None:
    one_chat: list[ChatEvent] = [_posted(1, n) for n in range(4)]
    assert chat_groups(one_chat, 4) == [[0, 1, 2, 3]]
    two_chats: list[ChatEvent] = [_posted(1, 0), _posted(2, 0), _posted(1, 1)]
    assert chat_groups(two_chats, 1) == [[0, 1, 2]]
    assert sorted(chat_groups(two_chats, 8)) == [[0, 2], [1]]


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine, with the test's chats (every chat table) and its user removed around it."""
    engine = create_engine(database_url)
    await remove_chats(engine, list(CHATS), [ANN.user_id], [])
    yield engine
    await remove_chats(engine, list(CHATS), [ANN.user_id], [])
    await engine.dispose()


async def test_a_split_batch_reports_by_the_batchs_indexes(engine: AsyncEngine) -> None:
    """Three chats' events interleaved, written three ways: an event the database refuses (an
    emoji too long for its column) and the texts the chats do not store (no settings: text
    off) are reported at their indexes in the batch; the rest is stored; and the three
    transactions were open at once (three connections checked out together)."""
    too_long = ReactionChanged(
        event_id="too-long",
        chat_id=CHATS[1],
        occurred_at=START + timedelta(minutes=30),
        message_id=1,
        user=ANN,
        new=("x" * 100,),
    )
    events: list[ChatEvent] = [
        _posted(CHATS[0], 1),
        _posted(CHATS[1], 1),
        _posted(CHATS[2], 1, text="kept out"),
        _posted(CHATS[0], 2, text="kept out too"),
        too_long,
        _posted(CHATS[1], 2),
        _posted(CHATS[2], 2),
    ]
    out, most = 0, 0

    def checked_out(*_: object) -> None:
        nonlocal out, most
        out += 1
        most = max(most, out)

    def checked_in(*_: object) -> None:
        nonlocal out
        out -= 1

    event.listen(engine.sync_engine.pool, "checkout", checked_out)
    event.listen(engine.sync_engine.pool, "checkin", checked_in)
    writer = ChatWriter(engine, ways=3)
    await writer.layout()  # its connection is not one of the groups'
    most = 0
    written, refused = await writer.write_isolating(events)

    assert [index for index, _ in refused] == [4]
    assert refused[0][1].startswith("database refused it:")
    assert written.text_dropped == (2, 3)
    assert (written.events, written.messages) == (6, 6)
    assert most == 3
    async with engine.connect() as connection:
        stored = await connection.execute(
            text("SELECT chat_id, message_id, text FROM messages WHERE chat_id = ANY(:chats)"),
            {"chats": list(CHATS)},
        )
        assert sorted(stored) == sorted((c, n, None) for c in CHATS for n in (1, 2))
