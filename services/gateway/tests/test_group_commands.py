"""Issue 15 in groups, without any server: report periods, /settings for the chat's admins,
the command menu and a throttled member's question, fed to the Dispatcher (``feed_update``)
with a Bot whose session answers from memory and FastStream's in-memory bus."""

import itertools
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import (
    GetChatMember,
    SetMessageReaction,
    SetMyCommands,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from faststream.nats import JStream, NatsBroker, TestNatsBroker
from prometheus_client import CollectorRegistry

from services.gateway.tests.test_dispatcher import SUBJECTS, Harness, RecordingSession
from tally.contracts.chat_events import SettingsChanged
from tally.contracts.chat_reports import ChatReport, ChatReportRequested
from tally.contracts.events import AdminAuditEvent
from tally.gateway.app import create_broker_for
from tally.gateway.config import GatewaySettings
from tally.gateway.context import GatewayContext
from tally.gateway.domain.settings import text
from tally.gateway.domain.texts import say
from tally.gateway.handlers import provide_context
from tally.gateway.metrics import GatewayMetrics
from tally.gateway.telegram.dispatcher import create_dispatcher, release_routers
from tally.gateway.telegram.keyboards import SettingsButton
from tally.gateway.telegram.menu import register_commands
from tally.gateway.telegram.middlewares import THROTTLED_REACTION
from tally.language.report_period import ReportPeriodError, read_report_arguments
from tally.testing.kv import MemoryKeyValue
from tally.testing.telegram import DEFAULT_TOKEN

GROUP = -100_777
ADMIN, MEMBER = 71, 72
_ids = itertools.count(10_000)
_RIGHTS = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_send_welcome_messages",
)


class GroupSession(RecordingSession):
    """A RecordingSession that answers ``getChatMember`` as the chat's ``statuses`` say
    (``member`` for anyone else) and fails the method types in ``failing`` (no network)."""

    def __init__(self) -> None:
        super().__init__()
        self.statuses: dict[int, str] = {ADMIN: "administrator"}
        self.failing: set[type[TelegramMethod[Any]]] = set()

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109  # aiogram's BaseSession signature
    ) -> TelegramType:
        if type(method) in self.failing:
            self.requests.append(method)
            raise TelegramNetworkError(method=method, message="unreachable")
        if isinstance(method, GetChatMember):
            self.requests.append(method)
            member = _member(self.statuses.get(int(method.user_id), "member"), method.user_id)
            return self.check_response(bot, method, 200, _ok(member)).result  # type: ignore[return-value]
        return await super().make_request(bot, method, timeout)

    def of(self, kind: type[TelegramMethod[Any]]) -> list[Any]:
        return [method for method in self.requests if isinstance(method, kind)]


def _ok(result: object) -> str:
    return json.dumps({"ok": True, "result": result})


def _member(status: str, user_id: int) -> dict[str, Any]:
    member: dict[str, Any] = {
        "status": status,
        "user": {"id": user_id, "is_bot": False, "first_name": "Ann"},
    }
    if status == "administrator":
        member |= {"can_be_edited": False, "is_anonymous": False} | dict.fromkeys(_RIGHTS, True)
    return member


def _settings(group_throttle_interval_s: float) -> GatewaySettings:
    return GatewaySettings(
        bot_token=DEFAULT_TOKEN,
        subject_prefix=SUBJECTS.prefix,
        throttle_interval_s=0,
        group_throttle_interval_s=group_throttle_interval_s,
    )


async def _gateway(group_throttle_interval_s: float = 0) -> AsyncIterator[Harness]:
    """A gateway on an in-memory bus recording the report requests (answered with an empty
    report of the days asked), settings changes and admin audits."""
    settings = _settings(group_throttle_interval_s)
    broker = create_broker_for(settings, SUBJECTS)
    session = GroupSession()
    bot = Bot(DEFAULT_TOKEN, session=session)
    registry = CollectorRegistry()
    ctx = GatewayContext.create(
        settings, subjects=SUBJECTS, bot=bot, broker=broker, metrics=GatewayMetrics(registry)
    )
    ctx.state.use(MemoryKeyValue())
    provide_context(broker, ctx)
    published: dict[str, list[dict[str, Any]]] = {}
    harness = Harness(create_dispatcher(ctx), bot, session, registry, broker, published)

    @broker.subscriber(SUBJECTS.chat_report)
    async def report(request: ChatReportRequested) -> ChatReport:
        published.setdefault(SUBJECTS.chat_report, []).append(request.model_dump(mode="json"))
        first, last = request.span(datetime.now(UTC).date())
        return ChatReport(
            chat_id=request.chat_id,
            kind=request.kind,
            timezone=request.timezone,
            first=first,
            last=last,
        )

    _record(broker, SUBJECTS.chat_event(GROUP, "settings"), SUBJECTS.chat_events_stream, published)
    _record(broker, SUBJECTS.admin_audit, SUBJECTS.activity_stream, published)
    async with TestNatsBroker(broker):
        yield harness
    release_routers(harness.dispatcher)


def _record(
    broker: NatsBroker, subject: str, stream: str, published: dict[str, list[dict[str, Any]]]
) -> None:
    """Record the bodies published to ``subject`` of JetStream ``stream``."""

    async def record(body: dict[str, Any]) -> None:
        published.setdefault(subject, []).append(body)

    broker.subscriber(subject, stream=JStream(stream, declare=False))(record)


@pytest.fixture
async def gateway() -> AsyncIterator[Harness]:
    async for harness in _gateway():
        yield harness


@pytest.fixture
async def throttled() -> AsyncIterator[Harness]:
    """A gateway that takes one request a minute from each group member."""
    async for harness in _gateway(group_throttle_interval_s=60):
        yield harness


def _group_message(text: str, *, user_id: int, language: str = "en") -> dict[str, Any]:
    return {
        "update_id": next(_ids),
        "message": {
            "message_id": next(_ids),
            "date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": GROUP, "type": "supergroup", "title": "Fans"},
            "from": {
                "id": user_id,
                "is_bot": False,
                "first_name": "Ann",
                "language_code": language,
            },
            "text": text,
        },
    }


def _press(button: SettingsButton, *, user_id: int) -> dict[str, Any]:
    return {
        "update_id": next(_ids),
        "callback_query": {
            "id": str(next(_ids)),
            "chat_instance": "ci",
            "from": {"id": user_id, "is_bot": False, "first_name": "Ann", "language_code": "en"},
            "message": {
                "message_id": 5,
                "date": int(datetime.now(UTC).timestamp()),
                "chat": {"id": GROUP, "type": "supergroup", "title": "Fans"},
                "text": "settings",
            },
            "data": button.pack(),
        },
    }


def _requests(harness: Harness) -> list[ChatReportRequested]:
    bodies = harness.published.get(SUBJECTS.chat_report, [])
    return [ChatReportRequested.model_validate(body) for body in bodies]


async def test_a_named_period_reaches_the_report_request(gateway: Harness) -> None:
    """``/activity 2025-11`` asks for 1 to 30 November on the chat's calendar (UTC without
    settings), and the reply names those days and the zone."""
    await gateway.feed(_group_message("/activity 2025-11", user_id=MEMBER))

    [request] = _requests(gateway)
    assert (request.kind, request.first, request.last, request.days) == (
        "activity",
        date(2025, 11, 1),
        date(2025, 11, 30),
        30,
    )
    assert request.timezone == "UTC"
    [reply] = gateway.session.sent()
    assert "1–30 Nov 2025 (UTC)" in reply.text


async def test_top_sends_its_size_and_the_last_days(gateway: Harness) -> None:
    """``/top 5`` is a top 5 of the last 7 days (today, UTC, included), ranked by messages."""
    await gateway.feed(_group_message("/top 5", user_id=MEMBER))

    [request] = _requests(gateway)
    today = datetime.now(UTC).date()
    assert (request.limit, request.by) == (5, "messages")
    assert (request.first, request.last) == (today - timedelta(days=6), today)


async def test_a_bad_period_gets_the_reason_in_the_askers_language(gateway: Harness) -> None:
    """``/stats банан`` from a Russian speaker is answered with why, in Russian; nothing is
    asked of the executor."""
    today = datetime.now(UTC).date()
    with pytest.raises(ReportPeriodError) as refused:
        read_report_arguments("stats", "банан", today=today, language="ru")

    await gateway.feed(_group_message("/stats банан", user_id=MEMBER, language="ru"))

    [reply] = gateway.session.sent()
    assert reply.text == refused.value.message
    assert _requests(gateway) == []


async def test_a_top_by_another_measure_is_asked_of_the_executor(gateway: Harness) -> None:
    """``/top by reactions``: the executor ranks by every measure, so the request carries the
    measure (it was refused while the executor ranked by messages only)."""
    await gateway.feed(_group_message("/top by reactions", user_id=MEMBER))

    [request] = _requests(gateway)
    assert (request.kind, request.by) == ("top", "reactions")


def _changes(harness: Harness) -> list[SettingsChanged]:
    bodies = harness.published.get(SUBJECTS.chat_event(GROUP, "settings"), [])
    return [SettingsChanged.model_validate(body) for body in bodies]


def _audits(harness: Harness) -> list[AdminAuditEvent]:
    return [
        AdminAuditEvent.model_validate(b) for b in harness.published.get(SUBJECTS.admin_audit, [])
    ]


async def test_settings_shows_the_card_with_buttons(gateway: Harness) -> None:
    """``/settings``: the zone, text storage and retention, with the buttons to change them;
    nothing is changed or audited."""
    await gateway.feed(_group_message("/settings", user_id=MEMBER))

    [card] = gateway.session.sent()
    assert "<code>UTC</code>" in card.text and "Message text stored: no" in card.text
    buttons = [b.text for row in card.reply_markup.inline_keyboard for b in row]  # type: ignore[union-attr]
    assert buttons[0] == "Store message text"
    assert "✓ Keep forever" in buttons
    assert _changes(gateway) == [] and _audits(gateway) == []


async def test_an_admins_press_publishes_the_change_and_its_audit(gateway: Harness) -> None:
    """An administrator (getChatMember says so) turning text storage on: SettingsChanged for
    the chat with text on, an allowed audit, a short confirmation and the card redrawn."""
    await gateway.feed(_press(SettingsButton(action="text", value=1), user_id=ADMIN))

    [changed] = _changes(gateway)
    assert (changed.chat_id, changed.settings.store_text) == (GROUP, True)
    [audit] = _audits(gateway)
    assert (audit.user_id, audit.chat_id, audit.command, audit.allowed) == (
        ADMIN,
        GROUP,
        "settings",
        True,
    )
    [answer] = gateway.session.answers()
    assert answer.text == text("saved", "en") and not answer.show_alert


async def test_an_admin_sets_the_time_zone(gateway: Harness) -> None:
    """``/settings timezone Europe/Berlin`` by an admin publishes the zone; an unknown zone
    is refused with a sentence and changes nothing."""
    await gateway.feed(_group_message("/settings timezone Europe/Berlin", user_id=ADMIN))
    await gateway.feed(_group_message("/settings timezone Mars/Base", user_id=ADMIN))

    [changed] = _changes(gateway)
    assert changed.settings.timezone == "Europe/Berlin"
    saved, unknown = gateway.session.sent()
    assert "<code>Europe/Berlin</code>" in saved.text
    assert unknown.text == text("bad_zone", "en", name="Mars/Base")


async def test_a_members_press_is_refused_in_a_popup(gateway: Harness) -> None:
    """A member (getChatMember: member) pressing a retention button gets a popup refusal;
    nothing is changed, the refused attempt is audited; a second press asks Telegram no
    more (the verdict is kept)."""
    for _ in range(2):
        await gateway.feed(_press(SettingsButton(action="keep", value=30), user_id=MEMBER))

    assert _changes(gateway) == []
    assert [audit.allowed for audit in _audits(gateway)] == [False, False]
    answers = gateway.session.answers()
    assert [(a.text, a.show_alert) for a in answers] == [(text("refused", "en"), True)] * 2
    assert len(gateway.session.of(GetChatMember)) == 1  # type: ignore[attr-defined]


async def test_a_member_cannot_set_the_time_zone(gateway: Harness) -> None:
    """A member's ``/settings timezone`` is answered with the refusal and changes nothing."""
    await gateway.feed(_group_message("/settings timezone Europe/Berlin", user_id=MEMBER))

    assert _changes(gateway) == []
    [reply] = gateway.session.sent()
    assert reply.text == text("refused", "en")


async def test_the_command_menu_is_registered_per_scope_and_language() -> None:
    """setMyCommands for private chats, all groups and group admins (with /settings), each in
    English (no language code) and Russian."""
    session = GroupSession()
    bot = Bot(DEFAULT_TOKEN, session=session)

    assert await register_commands(bot)

    calls: list[SetMyCommands] = session.of(SetMyCommands)
    scopes = [(call.scope.type, call.language_code) for call in calls]  # type: ignore[union-attr]
    assert scopes == [
        (scope, language)
        for scope in ("all_private_chats", "all_group_chats", "all_chat_administrators")
        for language in (None, "ru")
    ]
    admins = {command.command for command in calls[4].commands}
    assert {"stats", "top", "settings"} <= admins
    assert "settings" not in {command.command for command in calls[2].commands}


async def test_a_failed_command_menu_is_not_fatal() -> None:
    """When Telegram cannot be reached, registering the menu says False and raises nothing."""
    session = GroupSession()
    session.failing.add(SetMyCommands)

    assert not await register_commands(Bot(DEFAULT_TOKEN, session=session))


async def test_a_throttled_group_question_gets_a_reaction(throttled: Harness) -> None:
    """A member's second report within the interval is not answered, but gets the
    reaction; the first is asked as usual."""
    for _ in range(2):
        await throttled.feed(_group_message("/top", user_id=MEMBER))

    assert len(_requests(throttled)) == 1
    [reaction] = throttled.session.of(SetMessageReaction)  # type: ignore[attr-defined]
    assert reaction.chat_id == GROUP
    assert [r.emoji for r in reaction.reaction] == [THROTTLED_REACTION]  # type: ignore[union-attr]
    assert len(throttled.session.sent()) == 1  # the report only


async def test_without_reactions_the_interval_is_said_once(throttled: Harness) -> None:
    """Where reactions fail, the first throttled question of the interval is answered "one
    question every 60 seconds", the next ones not at all."""
    throttled.session.failing.add(SetMessageReaction)  # type: ignore[attr-defined]
    for _ in range(3):
        await throttled.feed(_group_message("/top", user_id=MEMBER))

    texts = [message.text for message in throttled.session.sent()]
    assert texts.count(say("group_slow_down", "en").format(seconds="60")) == 1
    assert len(throttled.session.of(SetMessageReaction)) == 2  # type: ignore[attr-defined]


async def test_a_second_change_builds_on_the_first(gateway: Harness) -> None:
    """Two presses before ingest has written the first: the second change keeps the first
    (text on, then 30 days: text stays on)."""
    await gateway.feed(_press(SettingsButton(action="text", value=1), user_id=ADMIN))
    await gateway.feed(_press(SettingsButton(action="keep", value=30), user_id=ADMIN))

    first, second = _changes(gateway)
    assert (first.settings.store_text, first.settings.retention_days) == (True, None)
    assert (second.settings.store_text, second.settings.retention_days) == (True, 30)


async def test_the_anonymous_admin_may_set_the_time_zone(gateway: Harness) -> None:
    """A message the chat itself sent (its anonymous admin) may change the settings, audited
    as user 0, without asking Telegram."""
    update = _group_message("/settings timezone Asia/Tokyo", user_id=1087968824)
    update["message"]["sender_chat"] = {"id": GROUP, "type": "supergroup", "title": "Fans"}
    await gateway.feed(update)

    [changed] = _changes(gateway)
    assert changed.settings.timezone == "Asia/Tokyo"
    [audit] = _audits(gateway)
    assert (audit.user_id, audit.allowed) == (0, True)
    assert gateway.session.of(GetChatMember) == []  # type: ignore[attr-defined]
