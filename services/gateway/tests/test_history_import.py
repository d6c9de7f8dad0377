"""A group's export sent to the bot in a private chat, without any server: the update fed to
the Dispatcher (``feed_update``) with a Bot whose session answers getChatMember, getFile and
the download from memory, and FastStream's in-memory bus recording the chat events and the
admin audit."""

import itertools
import json
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot
from aiogram.methods import GetFile, TelegramMethod
from aiogram.methods.base import TelegramType
from faststream.nats import TestNatsBroker
from prometheus_client import CollectorRegistry

from services.gateway.tests.test_dispatcher import SUBJECTS, Harness
from services.gateway.tests.test_group_commands import GroupSession, _record
from tally.contracts.chat_events import KINDS
from tally.contracts.chat_export import convert_all, exported_chat
from tally.contracts.events import AdminAuditEvent
from tally.gateway.app import create_broker_for
from tally.gateway.config import GatewaySettings
from tally.gateway.context import GatewayContext
from tally.gateway.domain.history import _TEXTS, MAX_EXPORT_BYTES, say
from tally.gateway.handlers import provide_context
from tally.gateway.metrics import GatewayMetrics
from tally.gateway.telegram.dispatcher import create_dispatcher, release_routers
from tally.testing.kv import MemoryKeyValue
from tally.testing.telegram import DEFAULT_TOKEN
from tests.factories.chat_exports import forum_export

BARE = 1_999_000_123
CHAT = -1_001_999_000_123
ADMIN, MEMBER = 81, 82
_ids = itertools.count(50_000)


class FileSession(GroupSession):
    """A GroupSession (getChatMember as ``statuses`` say, in any chat) that also serves one
    file: getFile answers with its path and ``file_size`` (the content's by default), the
    download with ``content`` (``downloads`` counts them)."""

    def __init__(self) -> None:
        super().__init__()
        self.statuses = {ADMIN: "administrator"}
        self.content = b""
        self.file_size: int | None = None
        self.downloads = 0

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109  # aiogram's BaseSession signature
    ) -> TelegramType:
        if isinstance(method, GetFile):
            self.requests.append(method)
            found = {"file_id": method.file_id, "file_unique_id": "u", "file_path": "d/r.json"}
            size = len(self.content) if self.file_size is None else self.file_size
            body = json.dumps({"ok": True, "result": found | {"file_size": size}})
            return self.check_response(bot, method, 200, body).result  # type: ignore[return-value]
        return await super().make_request(bot, method, timeout)

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109  # aiogram's BaseSession signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        self.downloads += 1
        for start in range(0, len(self.content), chunk_size):
            yield self.content[start : start + chunk_size]


@pytest.fixture
async def gateway() -> AsyncIterator[Harness]:
    """A gateway on an in-memory bus recording the export chat's events and admin audits."""
    settings = GatewaySettings(
        bot_token=DEFAULT_TOKEN, subject_prefix=SUBJECTS.prefix, throttle_interval_s=0
    )
    broker = create_broker_for(settings, SUBJECTS)
    session = FileSession()
    bot = Bot(DEFAULT_TOKEN, session=session)
    registry = CollectorRegistry()
    ctx = GatewayContext.create(
        settings, subjects=SUBJECTS, bot=bot, broker=broker, metrics=GatewayMetrics(registry)
    )
    ctx.state.use(MemoryKeyValue())
    provide_context(broker, ctx)
    published: dict[str, list[dict[str, Any]]] = {}
    harness = Harness(create_dispatcher(ctx), bot, session, registry, broker, published)
    for kind in KINDS:
        _record(broker, SUBJECTS.chat_event(CHAT, kind), SUBJECTS.chat_events_stream, published)
    _record(broker, SUBJECTS.admin_audit, SUBJECTS.activity_stream, published)
    async with TestNatsBroker(broker):
        yield harness
    release_routers(harness.dispatcher)


def _document(
    user_id: int, *, size: int | None, name: str = "result.json", mime: str = "application/json"
) -> dict[str, Any]:
    document: dict[str, Any] = {"file_id": "f1", "file_unique_id": "u1", "file_name": name}
    document |= {"file_size": size} if size is not None else {}
    return {
        "update_id": next(_ids),
        "message": {
            "message_id": next(_ids),
            "date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": user_id, "type": "private", "first_name": "Ann"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Ann", "language_code": "en"},
            "document": document | {"mime_type": mime},
        },
    }


async def _send(gateway: Harness, content: bytes, *, user_id: int) -> None:
    session = gateway.session
    assert isinstance(session, FileSession)
    session.content = content
    await gateway.feed(_document(user_id, size=len(content)))


def _events(gateway: Harness) -> list[dict[str, Any]]:
    subjects = [SUBJECTS.chat_event(CHAT, kind) for kind in KINDS]
    return [body for subject in subjects for body in gateway.published.get(subject, [])]


def _audits(gateway: Harness) -> list[AdminAuditEvent]:
    bodies = gateway.published.get(SUBJECTS.admin_audit, [])
    return [AdminAuditEvent.model_validate(body) for body in bodies]


def _replies(gateway: Harness) -> list[str]:
    return [method.text for method in gateway.session.sent()]


async def test_an_admins_export_is_published_as_the_cli_would(gateway: Harness) -> None:
    """Every event of the export, ids as ``tally import-chat`` makes them, on the chat's
    subjects; the reply counts them; the attempt is audited as allowed."""
    builder = forum_export(BARE)
    builder.message(11, "Ann Lee", "no date here")["date_unixtime"] = None
    builder.messages[-1].pop("date")
    export = builder.export()
    expected, tally = convert_all(
        exported_chat(builder.header), export["messages"], store_text=False
    )

    await _send(gateway, json.dumps(export).encode(), user_id=ADMIN)

    assert sorted(e["event_id"] for e in _events(gateway)) == sorted(e.event_id for e in expected)
    reading, done = _replies(gateway)
    assert reading.startswith("Importing the history of “Hiking Club”")
    assert f"{len(expected):,} events" in done and f"({CHAT})" in done
    assert "Skipped 1 malformed messages" in done
    assert [(a.user_id, a.chat_id, a.allowed) for a in _audits(gateway)] == [(ADMIN, CHAT, True)]
    assert sum(tally.skipped.values()) == 1


async def test_a_member_is_refused_and_nothing_is_published(gateway: Harness) -> None:
    """A member of the group (not an admin) gets one sentence; no event leaves the gateway;
    the refusal is audited."""
    export = forum_export(BARE).export()

    await _send(gateway, json.dumps(export).encode(), user_id=MEMBER)

    assert _replies(gateway) == [say("not_admin", "en", title="“Hiking Club”")]
    assert _events(gateway) == []
    assert [(a.user_id, a.allowed) for a in _audits(gateway)] == [(MEMBER, False)]


async def test_a_file_over_the_limit_is_refused_before_downloading(gateway: Harness) -> None:
    """A document announced over 20 MB is answered with the limit; getFile is never called."""
    await gateway.feed(_document(ADMIN, size=MAX_EXPORT_BYTES + 1))

    [reply] = _replies(gateway)
    assert reply == say("too_big", "en") and "20 MB" in reply
    assert not any(isinstance(method, GetFile) for method in gateway.session.requests)
    assert _events(gateway) == []


async def test_a_file_getfile_says_is_over_the_limit_is_not_downloaded(
    gateway: Harness,
) -> None:
    """A document without a size, which getFile says is over 20 MB: the limit is the reply,
    and the file is not downloaded."""
    session = gateway.session
    assert isinstance(session, FileSession)
    session.file_size = MAX_EXPORT_BYTES + 1

    await gateway.feed(_document(ADMIN, size=None))

    assert _replies(gateway) == [say("too_big", "en")]
    assert session.downloads == 0 and _events(gateway) == []


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b'{"name": "G", "type": "private_supergroup", "id": 5, "messages": [{', "not valid JSON"),
        (b"PK\x03\x04 a zip", "not valid JSON"),
        (b'{"videos": []}', 'no "messages" list'),
        (b'{"name": "N", "type": "public_channel", "id": 1, "messages": []}', "not a group"),
    ],
)
async def test_a_malformed_file_gets_one_sentence(
    gateway: Harness, content: bytes, says: str
) -> None:
    """A file that is no group's export is answered with why, in one sentence; nothing is
    published, and the gateway goes on (the next document is read)."""
    await _send(gateway, content, user_id=ADMIN)

    [reply] = _replies(gateway)
    assert says in reply and "\n" not in reply and "Traceback" not in reply
    assert _events(gateway) == []
    assert (
        gateway.sample("tally_gateway_handler_errors_total", update="message", kind="user_facing")
        == 1
    )


async def test_a_document_that_is_no_json_gets_the_how_to(gateway: Harness) -> None:
    """A PDF is not read: the reply says how to export a group's history."""
    await gateway.feed(_document(ADMIN, size=10, name="notes.pdf", mime="application/pdf"))

    assert _replies(gateway) == [say("not_export", "en")]
    assert not any(isinstance(method, GetFile) for method in gateway.session.requests)


def test_every_sentence_is_there_in_both_languages() -> None:
    """English and Russian have the same sentences with the same fields, so no reply fails
    on a missing key or field in either language."""
    fields = {"title": "“G”", "chat_id": CHAT, "messages": 1, "events": 2, "kinds": "k"}
    fields |= {"new": 0, "count": 1, "reason": "r", "done": 3}
    for key in _TEXTS["en"]:
        assert say(key, "ru", **fields) and say(key, "en", **fields)
    assert _TEXTS["en"].keys() == _TEXTS["ru"].keys()
