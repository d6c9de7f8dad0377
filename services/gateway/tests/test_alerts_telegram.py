"""Alerts in Telegram through the real gateway, the fake Bot API and real NATS.

Notifications on ``alerts.firing|resolved`` reach every admin chat; buttons and commands
become AlertCommands on ``alert_command``, answered here by a stand-in that records them and
replies (the real alerts service is wired in the end-to-end tests); non-admins are refused
and nothing reaches the bus.
"""

import asyncio
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg

from tally.contracts.alerting import (
    WATCH_IN_PRIVATE,
    AlertCommand,
    AlertCommandReply,
    AlertNotification,
    HistoryEntryView,
    SilenceView,
)
from tally.contracts.chat_events import ChatSettings
from tally.contracts.render import MAX_MESSAGE
from tally.contracts.subjects import Subjects
from tally.gateway.app import Gateway
from tally.gateway.config import GatewaySettings
from tally.gateway.domain.alerts import (
    ALERTS_USAGE,
    SILENCE_USAGE,
    UNSILENCE_USAGE,
    WATCH_USAGE,
    utf16_length,
)
from tally.gateway.telegram import alerts as alert_router
from tally.gateway.telegram.admins import REFUSAL
from tally.testing.telegram import FakeTelegram, SentMessage
from tally.testing.waiting import until
from tests.factories.alert_messages import (
    GROUP_ID,
    STARTED,
    alert_view,
    notification,
    shown_text,
)

ADMIN = 4242
STRANGER = 4343
ADMIN_GROUP = -2001
ADMIN_CHATS = (ADMIN_GROUP, ADMIN)
NO_ANSWER = "The alerts service did not answer; try again shortly."

pytestmark = pytest.mark.usefixtures("streams", "gateway")
_groups = itertools.count(-400_001, -1)


@pytest.fixture(scope="module")
def gateway_settings(gateway_settings: GatewaySettings) -> GatewaySettings:
    """One admin user; alerts go to a group and to the admin's private chat; no throttling
    (the admin sends several commands in a row)."""
    return gateway_settings.model_copy(
        update={
            "admin_user_ids": [ADMIN],
            "admin_chat_ids": list(ADMIN_CHATS),
            "throttle_interval_s": 0.0,
        }
    )


@pytest.fixture
def group() -> int:
    """A group id no other test uses (sends to a group are paced per group)."""
    return next(_groups)


class AlertsStandIn:
    """Answers ``alert_command`` requests like the alerts service: records each command and
    replies ``reply`` (None: stays silent, so the gateway times out)."""

    def __init__(self) -> None:
        self.commands: asyncio.Queue[AlertCommand] = asyncio.Queue()
        self.reply: AlertCommandReply | None = AlertCommandReply(ok=True, message="Done.")

    async def on_request(self, message: Msg) -> None:
        await self.commands.put(AlertCommand.model_validate_json(message.data))
        if self.reply is not None:
            await message.respond(self.reply.model_dump_json().encode())

    async def next(self) -> AlertCommand:
        """The next command; raises TimeoutError after 5 s."""
        return await asyncio.wait_for(self.commands.get(), 5)

    def assert_none(self) -> None:
        assert self.commands.empty(), f"unexpected command: {self.commands.get_nowait()}"


@pytest.fixture
async def alerts_service(nc: Client, subjects: Subjects) -> AsyncIterator[AlertsStandIn]:
    stand_in = AlertsStandIn()
    subscription = await nc.subscribe(subjects.alert_command, cb=stand_in.on_request)
    await nc.flush()
    yield stand_in
    await subscription.unsubscribe()


async def publish(nc: Client, subjects: Subjects, event: AlertNotification) -> None:
    await nc.publish(subjects.alert(event.status), event.model_dump_json().encode())
    await nc.flush()


async def notified(telegram: FakeTelegram) -> list[SentMessage]:
    """The notification as each admin chat got it."""
    return [(await telegram.wait_sent(chat_id=chat))[0] for chat in ADMIN_CHATS]


def buttons(sent: SentMessage) -> list[list[tuple[str, str]]]:
    rows: list[list[dict[str, Any]]] = (sent.reply_markup or {})["inline_keyboard"]
    return [[(button["text"], button["callback_data"]) for button in row] for row in rows]


async def test_a_firing_notification_reaches_every_admin_chat_with_buttons(
    telegram: FakeTelegram, nc: Client, subjects: Subjects
) -> None:
    """HTML with everything from the event escaped, and four buttons carrying the group id."""
    hostile = alert_view(name="Lag<1>", summary="behind & slow", severity="critical")
    await publish(nc, subjects, notification(hostile, alert_view(2, acknowledged_by=ADMIN)))

    for sent in await notified(telegram):
        assert sent.parse_mode == "HTML"
        assert sent.text.startswith("<b>🔥 FIRING</b> · 2 alerts\n")
        assert "🔴 <b>Lag&lt;1&gt;</b> · critical · firing\nbehind &amp; slow" in sent.text
        assert "since 2025-11-28 14:05 UTC" in sent.text
        assert f"✔ acknowledged by user {ADMIN}" in sent.text
        assert "Lag<1>" in shown_text(sent.text)
        assert buttons(sent) == [
            [("Acknowledge", f"al:ack:{GROUP_ID}")],
            [("Silence 1h", f"al:s1h:{GROUP_ID}"), ("Silence 24h", f"al:s24h:{GROUP_ID}")],
            [("Mute until resolved", f"al:mute:{GROUP_ID}")],
        ]


async def test_a_resolved_notification_has_no_buttons(
    telegram: FakeTelegram, nc: Client, subjects: Subjects
) -> None:
    """✅ RESOLVED, when it ended, and nothing to press."""
    ended = alert_view(state="resolved", ends_at=STARTED.replace(hour=15))
    await publish(nc, subjects, notification(ended, status="resolved"))

    for sent in await notified(telegram):
        assert sent.text.startswith("<b>✅ RESOLVED</b> · 1 alert\n")
        assert "resolved 2025-11-28 15:05 UTC" in sent.text
        assert sent.reply_markup is None


async def test_two_hundred_alerts_fit_one_message(
    telegram: FakeTelegram, nc: Client, subjects: Subjects
) -> None:
    """200 alerts: at most 4096 UTF-16 code units, whole entries, "… and N more", balanced
    HTML, buttons still there."""
    many = [alert_view(number, summary="Ingest behind 🐢 " * 10) for number in range(1, 201)]
    await publish(nc, subjects, notification(*many))

    for sent in await notified(telegram):
        shown = sent.text.count("· warning · firing")
        assert utf16_length(sent.text) <= MAX_MESSAGE
        assert 0 < shown < 200 and sent.text.endswith(f"… and {200 - shown} more")
        shown_text(sent.text)
        assert len(buttons(sent)) == 3


@pytest.mark.parametrize(
    ("key", "action", "duration_s", "line"),
    [
        ("ack", "ack", None, "✔ Acknowledged"),
        ("s1h", "silence", 3600.0, "🔕 Silenced 1h"),
        ("s24h", "silence", 86400.0, "🔕 Silenced 24h"),
        ("mute", "mute", None, "🔇 Muted until resolved"),
    ],
)
async def test_an_admins_press_sends_the_command_and_says_who_did_it(
    telegram: FakeTelegram,
    alerts_service: AlertsStandIn,
    key: str,
    action: str,
    duration_s: float | None,
    line: str,
) -> None:
    """The button's AlertCommand for the group reaches the alerts service with the admin as
    actor; the press is answered with the reply's message and the buttons become one line
    naming the admin."""
    alerts_service.reply = AlertCommandReply(ok=True, message=f"{action} done for the group")
    press = telegram.push_callback(ADMIN_GROUP, ADMIN, f"al:{key}:{GROUP_ID}")

    command = await alerts_service.next()
    answered = await telegram.wait_press(press)
    await until(lambda: answered.keyboard is not None)

    assert (command.action, command.target, command.duration_s) == (action, GROUP_ID, duration_s)
    assert command.actor_id == ADMIN
    assert (answered.notice, answered.alert) == (f"{action} done for the group", False)
    [[status]] = answered.keyboard or []
    assert status["text"] == f"{line} by User{ADMIN}"
    assert status["callback_data"] == f"al:done:{GROUP_ID}"


async def test_a_refused_press_keeps_the_buttons(
    telegram: FakeTelegram, alerts_service: AlertsStandIn
) -> None:
    """When the alerts service says no, its message pops up and the buttons stay."""
    alerts_service.reply = AlertCommandReply(ok=False, message="No such group: it resolved.")
    press = await telegram.wait_press(
        telegram.push_callback(ADMIN_GROUP, ADMIN, f"al:mute:{GROUP_ID}")
    )

    assert (await alerts_service.next()).action == "mute"
    assert (press.notice, press.alert) == ("No such group: it resolved.", True)
    await asyncio.sleep(0.3)
    assert press.keyboard is None


async def test_a_strangers_press_is_refused_in_a_popup(
    telegram: FakeTelegram, alerts_service: AlertsStandIn
) -> None:
    """A non-admin's press gets REFUSAL as an alert popup; no command reaches the bus."""
    press = await telegram.wait_press(
        telegram.push_callback(ADMIN_GROUP, STRANGER, f"al:s1h:{GROUP_ID}")
    )
    await asyncio.sleep(0.3)

    assert (press.notice, press.alert) == (REFUSAL, True)
    assert press.keyboard is None
    alerts_service.assert_none()


async def test_a_press_without_the_alerts_service_says_so(telegram: FakeTelegram) -> None:
    """Nobody answers alert_command: a clear notice, no stack trace, buttons kept."""
    press = await telegram.wait_press(
        telegram.push_callback(ADMIN_GROUP, ADMIN, f"al:ack:{GROUP_ID}")
    )

    assert (press.notice, press.alert) == (NO_ANSWER, True)
    assert press.keyboard is None


async def test_a_press_the_alerts_service_never_answers_times_out(
    telegram: FakeTelegram, alerts_service: AlertsStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A responder that stays silent: the same notice once the timeout passed."""
    monkeypatch.setattr(alert_router, "COMMAND_TIMEOUT_S", 0.5)
    alerts_service.reply = None
    press = await telegram.wait_press(
        telegram.push_callback(ADMIN_GROUP, ADMIN, f"al:ack:{GROUP_ID}")
    )

    assert (await alerts_service.next()).action == "ack"
    assert (press.notice, press.alert) == (NO_ANSWER, True)


async def test_the_status_line_only_gets_answered(
    telegram: FakeTelegram, alerts_service: AlertsStandIn
) -> None:
    """Pressing "Silenced 1h by …" answers silently and sends nothing."""
    press = await telegram.wait_press(
        telegram.push_callback(ADMIN_GROUP, ADMIN, f"al:done:{GROUP_ID}")
    )
    await asyncio.sleep(0.3)

    assert press.notice is None
    alerts_service.assert_none()


async def test_alerts_lists_firing_and_pending_alerts(
    telegram: FakeTelegram, alerts_service: AlertsStandIn
) -> None:
    """/alerts in a private chat: the reply's message and its alerts, as HTML."""
    alerts_service.reply = AlertCommandReply(
        ok=True,
        message="2 alerts",
        alerts=(alert_view(1), alert_view(2, state="pending", severity="info")),
    )
    telegram.push_message(ADMIN, ADMIN, "/alerts")

    command = await alerts_service.next()
    [sent] = await telegram.wait_sent(chat_id=ADMIN)

    assert (command.action, command.actor_id) == ("alerts", ADMIN)
    assert sent.parse_mode == "HTML"
    assert sent.text.startswith("<b>2 alerts</b>\n\n🟠 <b>IngestLag1</b> · warning · firing")
    assert "🔵 <b>IngestLag2</b> · info · pending" in sent.text


async def test_alerts_with_the_bots_name_works_in_a_group(
    telegram: FakeTelegram, alerts_service: AlertsStandIn, group: int
) -> None:
    """/alerts@tally_bot in a group answers in the group; 200 alerts fit one message."""
    many = tuple(alert_view(number) for number in range(1, 201))
    alerts_service.reply = AlertCommandReply(ok=True, message="200 alerts", alerts=many)
    telegram.push_group_message(group, ADMIN, "/alerts@tally_bot")

    assert (await alerts_service.next()).action == "alerts"
    [sent] = await telegram.wait_sent(chat_id=group)
    assert utf16_length(sent.text) <= MAX_MESSAGE
    assert sent.text.endswith(f"… and {200 - sent.text.count('IngestLag')} more")
    shown_text(sent.text)


@pytest.mark.parametrize(("text", "limit"), [("/alerts history", 20), ("/alerts HISTORY 2", 2)])
async def test_alerts_history_lists_the_latest_events(
    telegram: FakeTelegram, alerts_service: AlertsStandIn, text: str, limit: int
) -> None:
    """/alerts history [N]: a ``history`` command for N events (20 when not given); each
    event's time, kind, alert, labels, admin and detail, escaped."""
    entries = (
        HistoryEntryView(
            at=STARTED.replace(hour=15),
            fingerprint="00000000000000bb",
            alertname="IngestLag",
            labels={"alertname": "IngestLag", "severity": "warning"},
            event="silenced",
            actor_id=ADMIN,
            detail="silence <00aa>",
        ),
        HistoryEntryView(
            at=STARTED,
            fingerprint="00000000000000bb",
            alertname="IngestLag",
            labels={"alertname": "IngestLag", "severity": "warning"},
            event="fired",
        ),
    )
    alerts_service.reply = AlertCommandReply(ok=True, message="2 events", history=entries)
    telegram.push_message(ADMIN, ADMIN, text)

    command = await alerts_service.next()
    [sent] = await telegram.wait_sent(chat_id=ADMIN)

    assert (command.action, command.limit, command.actor_id) == ("history", limit, ADMIN)
    assert sent.parse_mode == "HTML"
    assert sent.text == (
        "<b>2 events</b>\n\n"
        "🔕 2025-11-28 15:05 UTC · silenced · <b>IngestLag</b>\n<code>severity=warning</code>\n"
        f"by user {ADMIN} · silence &lt;00aa&gt;\n\n"
        "🔥 2025-11-28 14:05 UTC · fired · <b>IngestLag</b>\n<code>severity=warning</code>"
    )


async def test_silences_lists_active_silences(
    telegram: FakeTelegram, alerts_service: AlertsStandIn
) -> None:
    """/silences: each silence's id, end, matchers and author."""
    silence = SilenceView(
        id="00000000000000aa",
        matchers=("alertname=IngestLag",),
        created_by=ADMIN,
        starts_at=STARTED,
        ends_at=STARTED.replace(hour=16),
    )
    alerts_service.reply = AlertCommandReply(ok=True, message="1 silence", silences=(silence,))
    telegram.push_message(ADMIN, ADMIN, "/silences")

    assert (await alerts_service.next()).action == "silences"
    [sent] = await telegram.wait_sent(chat_id=ADMIN)
    assert sent.text == (
        "<b>1 silence</b>\n\n🔕 <code>00000000000000aa</code> · until 2025-11-28 16:05 UTC\n"
        f"<code>alertname=IngestLag</code>\nby user {ADMIN}"
    )


async def test_silence_sends_matchers_and_duration(
    telegram: FakeTelegram, alerts_service: AlertsStandIn
) -> None:
    """/silence <matchers> <duration>: the matchers as typed, the duration in seconds; the
    reply's message comes back as plain text."""
    alerts_service.reply = AlertCommandReply(ok=True, message="Silenced <2 alerts> for 2h.")
    telegram.push_message(
        ADMIN, ADMIN, "/silence alertname=IngestLag severity=~warning|critical 2h"
    )

    command = await alerts_service.next()
    [sent] = await telegram.wait_sent(chat_id=ADMIN)

    assert command.action == "silence"
    assert command.matchers == ("alertname=IngestLag", "severity=~warning|critical")
    assert command.duration_s == 7200
    assert (sent.text, sent.parse_mode) == ("Silenced <2 alerts> for 2h.", None)


async def test_unsilence_sends_the_silence_id(
    telegram: FakeTelegram, alerts_service: AlertsStandIn, group: int
) -> None:
    """/unsilence <id> in a group expires that silence; the reply comes back to the group."""
    alerts_service.reply = AlertCommandReply(ok=True, message="Silence 00000000000000aa expired.")
    telegram.push_group_message(group, ADMIN, "/unsilence 00000000000000AA")

    command = await alerts_service.next()
    [sent] = await telegram.wait_sent(chat_id=group)

    assert (command.action, command.target) == ("unsilence", "00000000000000aa")
    assert sent.text == "Silence 00000000000000aa expired."


async def test_watch_sends_the_words_language_chat_and_zone(
    telegram: FakeTelegram,
    gateway: Gateway,
    nc: Client,
    subjects: Subjects,
    alerts_service: AlertsStandIn,
    group: int,
) -> None:
    """/watch in a group: the plain words, their language, the group and its time zone."""
    bucket = await nc.jetstream().key_value(subjects.chat_settings_bucket)
    zone = ChatSettings(timezone="Europe/Berlin").model_dump_json().encode()
    await bucket.put(str(group), zone)
    await until(lambda: gateway.context.chat_settings.get(group).timezone == "Europe/Berlin")
    alerts_service.reply = AlertCommandReply(ok=True, message="Watching: messages per day < 50.")
    telegram.push_group_message(group, ADMIN, "/watch сообщений в день меньше 50")

    command = await alerts_service.next()
    [sent] = await telegram.wait_sent(chat_id=group)

    assert command.action == "watch"
    assert command.text == "сообщений в день меньше 50"
    assert (command.language, command.chat_id, command.timezone) == ("ru", group, "Europe/Berlin")
    assert command.actor_id == ADMIN
    assert sent.text == "Watching: messages per day < 50."


async def test_watch_in_a_chat_the_gateway_knows_nothing_about_reads_utc(
    telegram: FakeTelegram, alerts_service: AlertsStandIn, group: int
) -> None:
    """A /watch in English in a group without settings: language en, that group, UTC."""
    telegram.push_group_message(group, ADMIN, "/watch tell me when messages drop by half")

    command = await alerts_service.next()
    await telegram.wait_sent(chat_id=group)

    assert (command.language, command.chat_id, command.timezone) == ("en", group, "UTC")


@pytest.mark.parametrize("text", ["/watch messages in this chat drop by half", "/watch"])
async def test_watch_in_a_private_chat_is_refused(
    telegram: FakeTelegram, alerts_service: AlertsStandIn, text: str
) -> None:
    """An admin's /watch in a private chat gets a sentence saying to send it in a group, and
    nothing reaches the alerts service (a private chat has no chat data: the alert would
    watch nothing and fire forever)."""
    telegram.push_message(ADMIN, ADMIN, text)

    [sent] = await telegram.wait_sent(chat_id=ADMIN)
    await asyncio.sleep(0.2)

    assert sent.text == WATCH_IN_PRIVATE
    alerts_service.assert_none()


@pytest.mark.parametrize(
    ("text", "usage"),
    [
        ("/silence 2h", SILENCE_USAGE),
        ("/silence alertname=IngestLag soon", SILENCE_USAGE),
        ("/silence IngestLag 2h", SILENCE_USAGE),
        ("/unsilence", UNSILENCE_USAGE),
        ("/unsilence 42", UNSILENCE_USAGE),
        ("/alerts history 0", ALERTS_USAGE),
        ("/alerts history 101", ALERTS_USAGE),
        ("/alerts history five", ALERTS_USAGE),
        ("/alerts firing", ALERTS_USAGE),
    ],
)
async def test_bad_arguments_get_the_usage_and_send_nothing(
    telegram: FakeTelegram, alerts_service: AlertsStandIn, text: str, usage: str
) -> None:
    """A command the gateway cannot read is answered with its usage, not sent on."""
    telegram.push_message(ADMIN, ADMIN, text)

    [sent] = await telegram.wait_sent(chat_id=ADMIN)

    assert sent.text == usage
    alerts_service.assert_none()


async def test_watch_without_words_gets_the_usage_in_a_group(
    telegram: FakeTelegram, alerts_service: AlertsStandIn, group: int
) -> None:
    """/watch with nothing to watch, in a group: its usage, nothing sent on."""
    telegram.push_group_message(group, ADMIN, "/watch")

    [sent] = await telegram.wait_sent(chat_id=group)

    assert sent.text == WATCH_USAGE
    alerts_service.assert_none()


async def test_a_command_without_the_alerts_service_says_so(telegram: FakeTelegram) -> None:
    """Nobody answers: a clear sentence, not a stack trace."""
    telegram.push_message(ADMIN, ADMIN, "/silences")

    [sent] = await telegram.wait_sent(chat_id=ADMIN)

    assert sent.text == NO_ANSWER


async def test_a_failed_listing_shows_the_services_message(
    telegram: FakeTelegram, alerts_service: AlertsStandIn
) -> None:
    """ok=False: the reply's message as plain text, no listing."""
    alerts_service.reply = AlertCommandReply(ok=False, message="Alert state is loading <1 s>.")
    telegram.push_message(ADMIN, ADMIN, "/alerts")

    [sent] = await telegram.wait_sent(chat_id=ADMIN)

    assert (sent.text, sent.parse_mode) == ("Alert state is loading <1 s>.", None)


COMMANDS = (
    "/alerts",
    "/alerts history 5",
    "/silences",
    "/silence alertname=IngestLag 2h",
    "/unsilence 00000000000000aa",
    "/watch messages drop by half",
)


@pytest.mark.parametrize("text", COMMANDS)
async def test_a_stranger_is_refused_in_private(
    telegram: FakeTelegram, alerts_service: AlertsStandIn, user_id: int, text: str
) -> None:
    """Every alert command from a non-admin gets REFUSAL and sends nothing on."""
    telegram.push_message(user_id, user_id, text)

    [sent] = await telegram.wait_sent(chat_id=user_id)
    await asyncio.sleep(0.2)

    assert sent.text == REFUSAL
    alerts_service.assert_none()


@pytest.mark.parametrize("text", COMMANDS)
async def test_a_stranger_is_refused_in_a_group(
    telegram: FakeTelegram, alerts_service: AlertsStandIn, group: int, text: str
) -> None:
    """In a group too (with the bot's name), whoever the chat is: the check is by user."""
    command, _, rest = text.partition(" ")
    telegram.push_group_message(group, STRANGER, f"{command}@tally_bot {rest}".strip())

    [sent] = await telegram.wait_sent(chat_id=group)
    await asyncio.sleep(0.2)

    assert sent.text == REFUSAL
    alerts_service.assert_none()


async def test_a_command_for_another_bot_is_ignored(
    telegram: FakeTelegram, alerts_service: AlertsStandIn, group: int
) -> None:
    """/alerts@OtherBot in a group is not for Tally: no reply, no command."""
    telegram.push_group_message(group, ADMIN, "/alerts@OtherBot")

    await telegram.assert_nothing_sent(chat_id=group)
    alerts_service.assert_none()
