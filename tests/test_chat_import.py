"""History import end to end: a Telegram Desktop export goes through CHAT_EVENTS into ingest
(in-process, real NATS and PostgreSQL, a database and subject prefix of its own) and the chat
tables hold what the export holds, counted here from the export itself; importing it again,
or its events redelivered under new message ids (past JetStream's duplicate window), changes
no row. The export comes by `tally import-chat`, or as a file a group admin sends the real
gateway through the fake Bot API."""

import asyncio
import json
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import nats
import pytest
from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError, KeyNotFoundError
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from tally.chatstore.write.writer import CHAT_TABLES
from tally.cli.main import app as cli
from tally.contracts.chat_events import ChatSettings, SettingsChanged
from tally.contracts.chat_export import convert_all, exported_chat
from tally.contracts.streams import delete_streams, ensure_streams
from tally.contracts.subjects import CHATS_DURABLE, Subjects
from tally.gateway.app import running_gateway
from tally.gateway.config import GatewaySettings
from tally.infra.db.session import create_engine, drop_database, ensure_database, migrate
from tally.ingest.app import create_broker_for, create_database_engine
from tally.ingest.config import IngestSettings
from tally.testing.telegram import DEFAULT_TOKEN, FakeTelegram
from tests.factories.chat_exports import ExportBuilder, forum_export, reaction

BARE = 1_555_000_042
CHAT = -1_001_555_000_042
ADMIN, MEMBER = 5_501, 5_502
Snapshot = dict[str, list[tuple[Any, ...]]]


@dataclass
class Env:
    settings: IngestSettings
    subjects: Subjects
    db: AsyncEngine
    js: JetStreamContext

    def tally(self, *args: str) -> str:
        environment = {
            "COLUMNS": "200",
            "NATS_URL": self.settings.nats_url,
            "DATABASE_URL": self.settings.database_url,
            "SUBJECT_PREFIX": self.settings.subject_prefix,
        }
        result = CliRunner().invoke(cli, list(args), env=environment)
        assert result.exit_code == 0, result.output
        return result.output

    async def scalar(self, query: str) -> Any:
        async with self.db.connect() as connection:
            return await connection.scalar(text(query), {"c": CHAT})

    async def snapshot(self) -> Snapshot:
        async with self.db.connect() as connection:
            return {
                table: sorted(
                    (
                        tuple(row)
                        for row in await connection.execute(text(f"SELECT * FROM {table}"))
                    ),
                    key=repr,
                )
                for table in CHAT_TABLES
            }

    async def settled(self, timeout_s: float = 60.0) -> None:
        stream = self.subjects.chat_events_stream
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            last = (await self.js.stream_info(stream)).state.last_seq
            info = await self.js.consumer_info(stream, CHATS_DURABLE)
            if info.ack_floor.stream_seq >= last and info.num_ack_pending == 0:
                return
            assert asyncio.get_running_loop().time() < deadline, "ingest did not catch up"
            await asyncio.sleep(0.05)


@pytest.fixture
async def env(nats_url: str, server_database_url: str) -> AsyncIterator[Env]:
    url = make_url(server_database_url).set(database=f"tally_import_{uuid4().hex[:10]}")
    database_url = url.render_as_string(hide_password=False)
    await ensure_database(database_url)
    await asyncio.to_thread(migrate, database_url)
    settings = IngestSettings(
        nats_url=nats_url,
        database_url=database_url,
        subject_prefix=f"i{uuid4().hex[:10]}",
        retry_delay_s=0.5,
    )
    subjects = Subjects(settings.subject_prefix)
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_streams(js, subjects)
    engine = create_database_engine(settings)
    broker = create_broker_for(settings, engine=engine, registry=CollectorRegistry())
    await broker.start()
    db = create_engine(database_url)
    try:
        yield Env(settings, subjects, db, js)
    finally:
        await broker.stop()
        await engine.dispose()
        await db.dispose()
        await delete_streams(js, subjects)
        await nc.close()
        await drop_database(database_url)


def history(messages: int = 700) -> ExportBuilder:
    """The forum export, then ``messages`` more from a dozen people: replies, edits,
    reactions (more than one publish chunk of events)."""
    chat = forum_export(BARE)
    rng = random.Random(7)
    people = [(100 + n, f"Walker {n}") for n in range(12)]
    for _ in range(messages):
        user, name = rng.choice(people)
        words = " ".join(rng.choices(["trail", "rain", "summit", "tea", "🙂"], k=rng.randint(1, 9)))
        extra: dict[str, Any] = {}
        if rng.random() < 0.2:
            extra["reply_to_message_id"] = rng.randint(1, len(chat.messages))
        if rng.random() < 0.1:
            extra["reactions"] = [reaction("👍", rng.randint(1, 4)), reaction("❤", 1)]
        record = chat.message(user, name, words, **extra)
        if rng.random() < 0.05:
            chat.edited(record)
    return chat


def expected(export: dict[str, Any]) -> dict[str, int]:
    """The table counts the export should give, counted from its records."""
    messages = [m for m in export["messages"] if m["type"] == "message"]
    services = [m for m in export["messages"] if m["type"] == "service"]
    known = {m["from"] for m in messages} | {m["actor"] for m in services}
    members = 0
    for service in services:
        if service["action"] in {"join_group_by_link", "join_group_by_request"}:
            members += 1
        elif service["action"] in {"invite_members", "remove_members"}:
            members += sum(name in known for name in service["members"])
    users = {m["from_id"] for m in messages if m["from_id"].startswith("user")}
    return {
        "messages": len(messages),
        "edited": sum("edited_unixtime" in m for m in messages),
        "member_events": members,
        "reaction_counts": sum(len(m.get("reactions", [])) for m in messages),
        "users": len(users),
        "words": sum(_words(m["text"]) for m in messages),
    }


def _words(written: str | list[Any]) -> int:
    """Words of a text written as a string or as parts (strings and entity objects)."""
    if isinstance(written, list):
        written = "".join(p if isinstance(p, str) else p["text"] for p in written)
    return sum(any(char.isalnum() for char in token) for token in written.split())


async def counts(env: Env) -> dict[str, int]:
    return {
        "messages": await env.scalar("SELECT count(*) FROM messages WHERE chat_id = :c"),
        "edited": await env.scalar(
            "SELECT count(*) FROM messages WHERE chat_id = :c AND edited_at IS NOT NULL"
        ),
        "member_events": await env.scalar("SELECT count(*) FROM member_events WHERE chat_id = :c"),
        "reaction_counts": await env.scalar(
            "SELECT count(*) FROM reaction_counts WHERE chat_id = :c"
        ),
        "users": await env.scalar("SELECT count(*) FROM users"),
        "words": await env.scalar("SELECT sum(words) FROM chat_daily WHERE chat_id = :c"),
    }


async def test_an_export_is_stored_as_it_is_and_importing_it_again_changes_nothing(
    env: Env, tmp_path: Path
) -> None:
    """Counts from the export equal the tables' (rollups included); a second import is all
    duplicates to JetStream, and the same events under new ids change no row."""
    chat = history()
    export = chat.export()
    (tmp_path / "result.json").write_text(json.dumps(export, ensure_ascii=False))

    output = await asyncio.to_thread(env.tally, "import-chat", str(tmp_path))
    await env.settled()

    assert "Ingest has stored them." in output, output
    assert "Skipped 0 messages" in output and "Left out 1 joins or leaves" in output
    assert await counts(env) == expected(export)
    assert await env.scalar("SELECT title FROM chats WHERE chat_id = :c") == "Hiking Club"
    assert await env.scalar("SELECT count(*) FROM messages WHERE text IS NOT NULL") == 0
    assert (
        await env.scalar("SELECT count(*) FROM messages WHERE message_id < 21 AND thread_id = 3")
        == 2
    )
    before = await env.snapshot()

    again = await asyncio.to_thread(env.tally, "import-chat", str(tmp_path / "result.json"))
    await env.settled()
    assert ", 0 new to the stream." in again, again
    assert await env.snapshot() == before

    events, _ = convert_all(exported_chat(chat.header), export["messages"], store_text=False)
    for event in events:
        await env.js.publish(
            env.subjects.chat_event(event.chat_id, event.kind),
            event.model_dump_json().encode(),
            headers={"Nats-Msg-Id": f"{event.event_id}:redelivered"},
        )
    await env.settled()
    assert await env.snapshot() == before


async def test_an_export_sent_to_the_bot_by_an_admin_is_stored_once(env: Env) -> None:
    """The same export sent to the gateway by the group's admin is stored as the export
    holds it; sent again, it is all duplicates and changes no table; a member's copy is
    refused with a sentence and publishes nothing."""
    export = history().export()
    content = json.dumps(export, ensure_ascii=False).encode()
    gateway = GatewaySettings(
        nats_url=env.settings.nats_url,
        database_url=env.settings.database_url,
        subject_prefix=env.settings.subject_prefix,
        bot_token=DEFAULT_TOKEN,
        throttle_interval_s=0,
    )
    async with FakeTelegram() as telegram:
        gateway = gateway.model_copy(update={"telegram_api_base": telegram.base_url})
        telegram.set_member_status(CHAT, ADMIN, "administrator")
        async with running_gateway(gateway):
            telegram.push_document(ADMIN, ADMIN, content)
            reading, done = await telegram.wait_sent(2, timeout=60, chat_id=ADMIN)
            await env.settled()
            assert "Importing the history of “Hiking Club”" in reading.text
            assert f"({CHAT})" in done.text and "Skipped" not in done.text, done.text
            assert await counts(env) == expected(export)
            before = await env.snapshot()

            telegram.push_document(ADMIN, ADMIN, content, file_name="copy.json")
            _, again = await telegram.wait_sent(2, timeout=60, chat_id=ADMIN)
            await env.settled()
            assert ", 0 new to the stream." in again.text, again.text
            assert "Nothing new" in again.text
            assert await env.snapshot() == before

            last = (await env.js.stream_info(env.subjects.chat_events_stream)).state.last_seq
            telegram.push_document(MEMBER, MEMBER, content)
            [refused] = await telegram.wait_sent(1, timeout=30, chat_id=MEMBER)
            assert "Only administrators of “Hiking Club”" in refused.text
            stream = await env.js.stream_info(env.subjects.chat_events_stream)
            assert stream.state.last_seq == last


async def test_text_travels_when_the_chats_settings_keep_it(env: Env, tmp_path: Path) -> None:
    """Once the chat stores text (ingest wrote it to the settings bucket), the import sends
    the messages' text and ingest keeps it."""
    settings = SettingsChanged(
        event_id=f"settings-{uuid4().hex}",
        chat_id=CHAT,
        occurred_at=datetime(2020, 1, 1, tzinfo=UTC),
        settings=ChatSettings(store_text=True),
    )
    await env.js.publish(
        env.subjects.chat_event(CHAT, "settings"), settings.model_dump_json().encode()
    )
    await env.settled()
    await _bucket_has(env, CHAT)
    chat = forum_export(BARE)
    (tmp_path / "result.json").write_text(json.dumps(chat.export(), ensure_ascii=False))

    output = await asyncio.to_thread(env.tally, "import-chat", str(tmp_path))
    await env.settled()

    assert "the chat's settings keep message text" in output
    assert await env.scalar("SELECT text FROM messages WHERE message_id = 2") == "hello all"


async def _bucket_has(env: Env, chat_id: int, timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        try:
            bucket = await env.js.key_value(env.subjects.chat_settings_bucket)
            await bucket.get(str(chat_id))
            return
        except (BucketNotFoundError, KeyNotFoundError):
            assert asyncio.get_running_loop().time() < deadline, "settings not in the bucket"
            await asyncio.sleep(0.1)
