"""What each identity sends on the bus: every publish and every request, with its message.

Each service declares these as FastStream publishers when its broker is made
(``tally.runtime.broker.create_broker``), so its AsyncAPI document (``/asyncapi.json``) and
the combined document of the whole system (``docs/asyncapi.json``, ``make asyncapi``) list
them next to the subscribers. ``tests/test_asyncapi.py`` holds the code to this table both
ways (every ``publish``/``request`` names a subject declared here for its service, every
subject declared here is published by the code) and :mod:`.access` to it (each publication is
allowed to its identity).

A subject with a variable token (a question id, a chat id, an import id) is declared with
``*`` in its place: the channel, not the one message's subject.
"""

from dataclasses import dataclass
from typing import Any, Final

from tally.contracts.access import SERVICES
from tally.contracts.alerting import AlertCommand, AlertCommandReply, AlertNotification
from tally.contracts.chat_events import ChatEvent, SettingsChanged
from tally.contracts.chat_reports import ChatReport, ChatReportRequested
from tally.contracts.digests import DigestReady
from tally.contracts.events import (
    AdminAuditEvent,
    AnswerFeedback,
    BatchStored,
    DeadLetter,
    QueryPlanned,
    QuestionAnswered,
    QuestionAsked,
    SqlProposed,
    UserSeen,
    VideoBatch,
)
from tally.contracts.ops_reports import OpsReport, OpsReportRequested
from tally.contracts.subjects import Subjects

PUBLISHERS: Final = (*SERVICES, "cli", "admin")
"""The identities whose publications are declared: the six services, ``tally ask`` and
``tally chat`` (``cli``), and ``tally import`` (``admin``, the operator)."""


@dataclass(frozen=True, slots=True)
class Publication:
    """One kind of message an identity sends.

    ``name`` is the :class:`Subjects` member that names the subject in the code
    (``question_asked``, ``answer``); ``subject`` the channel in the deployment (``*`` for a
    variable token); ``message`` the contract model (or union) of the body; ``reply`` the
    model of the answer when the message is a request (request/reply), else None (the
    AsyncAPI description names it: "Reply: <model>.").
    """

    name: str
    subject: str
    message: Any
    description: str
    reply: Any = None


def _answers(s: Subjects, who: str) -> Publication:
    return Publication(
        "answer",
        f"{s.prefix}.answers.*.*",
        QuestionAnswered,
        f"A question's answer from {who}, on answers.<channel>.<question id> (stream "
        "ACTIVITY; Nats-Msg-Id answer-<question id>).",
    )


def _dead_letters(s: Subjects, service: str) -> Publication:
    return Publication(
        "dead_letter",
        s.dead_letter(service),
        DeadLetter,
        f"A message {service} could not take (invalid or failing), kept in stream DEAD_LETTERS.",
    )


def _chat_report(s: Subjects, who: str) -> Publication:
    return Publication(
        "chat_report",
        s.chat_report,
        ChatReportRequested,
        f"Request/reply: {who} asks the executor for a group's report.",
        reply=ChatReport,
    )


def publications(s: Subjects) -> dict[str, tuple[Publication, ...]]:
    """Every identity of :data:`PUBLISHERS` and what it sends, in the deployment of ``s``."""
    return {
        "gateway": (
            Publication(
                "question_asked", s.question_asked, QuestionAsked, "A Telegram user's question."
            ),
            Publication(
                "plan_ready", s.plan_ready, QueryPlanned, "A reading the user picked (buttons)."
            ),
            Publication("user_seen", s.user_seen, UserSeen, "A user who wrote to the bot."),
            Publication("feedback", s.feedback, AnswerFeedback, "A user's 👍/👎 on an answer."),
            Publication(
                "admin_audit",
                s.admin_audit,
                AdminAuditEvent,
                "An admin command or alert button used, allowed or refused.",
            ),
            Publication(
                "chat_event",
                f"{s.prefix}.chats.*.*",
                ChatEvent,
                "A group's event, on chats.<chat id>.<kind> (stream CHAT_EVENTS; Nats-Msg-Id "
                "the event id).",
            ),
            _chat_report(s, "the gateway (/stats, /top, ...)"),
            Publication(
                "ops_report",
                s.ops_report,
                OpsReportRequested,
                "Request/reply: an admin's /analytics, /metrics or /health.",
                reply=OpsReport,
            ),
            Publication(
                "alert_command",
                s.alert_command,
                AlertCommand,
                "Request/reply: an admin's /alerts command or alert button.",
                reply=AlertCommandReply,
            ),
            _dead_letters(s, "gateway"),
        ),
        "nl2sql": (
            Publication("plan_ready", s.plan_ready, QueryPlanned, "A question's plan."),
            Publication(
                "sql_proposed", s.sql_proposed, SqlProposed, "LLM-written SQL for the firewall."
            ),
            _answers(s, "nl2sql (refusals, readings to pick from)"),
            _dead_letters(s, "nl2sql"),
        ),
        "executor": (_answers(s, "the executor"), _dead_letters(s, "executor")),
        "ingest": (
            Publication(
                "import_progress",
                s.imports_all,
                BatchStored,
                "A video batch stored, on imports.<import id>, for the importing CLI.",
            ),
            _dead_letters(s, "ingest"),
        ),
        "alerts": (
            Publication(
                "alert",
                s.alerts_all,
                AlertNotification,
                "An alert firing or resolved, on alerts.<status> (stream ACTIVITY).",
            ),
            Publication("digest_ready", s.digest_ready, DigestReady, "A chat's digest to post."),
            _chat_report(s, "the digest scheduler (a chat's stats)"),
            _dead_letters(s, "alerts"),
        ),
        "dashboard": (
            Publication(
                "chat_event",
                s.chat_events_of_kind("settings"),
                SettingsChanged,
                "A chat's settings changed on the dashboard (stream CHAT_EVENTS).",
            ),
        ),
        "cli": (
            Publication(
                "question_asked", s.question_asked, QuestionAsked, "tally ask / tally chat."
            ),
            Publication("plan_ready", s.plan_ready, QueryPlanned, "A reading picked (tally chat)."),
        ),
        "admin": (
            Publication(
                "video_batch",
                s.video_batch,
                VideoBatch,
                "tally import: a batch of videos (stream VIDEO_STATS; Nats-Msg-Id its sha256).",
            ),
        ),
    }
