"""The gateway's Prometheus metrics, defined per registry (labels are bounded sets)."""

from typing import Final, Literal, get_args

from prometheus_client import CollectorRegistry, Counter

from tally.contracts.alerting import CommandAction
from tally.contracts.chat_events import KINDS
from tally.runtime.metrics import zero

MessageKind = Literal["question", "command", "feedback", "pick", "reasked", "other"]
"""``pick``: a reading of an ambiguous question picked with its button."""
ReplyOutcome = Literal["sent", "rejected", "failed"]
"""``rejected``: Telegram refused the message (blocked, chat not found); ``failed``: gave up
after retries on network or server errors."""
ChatEventOutcome = Literal["published", "failed"]
"""``published``: JetStream confirmed it (a duplicate it dropped included); ``failed``: gave
up after retries."""
IgnoreReason = Literal["chat_not_allowed", "no_chat"]
"""Why an update was ignored: its chat is not in the allow-list, or it names no chat."""
WebhookOutcome = Literal["accepted", "unauthorized", "malformed", "too_large"]
"""``unauthorized``: no or a wrong secret token (401); ``malformed``: not JSON, or not an
update (400); ``too_large``: a body over the limit (413)."""
AuditOutcome = Literal["published", "failed"]
SnapshotOutcome = Literal["taken", "refused"]
"""``taken``: Telegram gave the chat's member count; ``refused``: it did not (the bot left the
chat, the chat is gone, a network or server error)."""
HandlerErrorKind = Literal["user_facing", "unexpected"]
"""``user_facing``: a UserFacingError, its message shown; ``unexpected``: anything else, logged
with its traceback."""


KNOWN_COMMANDS: Final = frozenset(
    {
        "start",
        "help",
        "sql",
        "ask",
        "stats",
        "top",
        "heatmap",
        "activity",
        "content",
        "reactions",
        "replies",
        "topics",
        "members",
        "words",
        "analytics",
        "health",
        "metrics",
        *get_args(CommandAction),
    }
)
"""The command names ``tally_commands_total`` has a label for: the gateway's own and the
alert commands (tally.contracts.alerting); any other command counts as ``other``."""


class GatewayMetrics:
    """Counters of messages in, replies out, chat events captured, updates ignored, webhook
    requests, admin audit events and failed handlers, registered in ``registry``.

    The children counted once or more per question (messages, replies, commands) are looked
    up once, here, not by ``labels()`` at each count."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.messages = Counter(
            "tally_gateway_messages",
            "Messages and button presses handled, by kind (question, command, feedback, pick, "
            "other).",
            ["kind"],
            registry=registry,
        )
        self.replies = Counter(
            "tally_gateway_replies",
            "Messages the bot tried to send, by outcome (sent, rejected, failed).",
            ["outcome"],
            registry=registry,
        )
        self.throttled = Counter(
            "tally_gateway_throttled",
            "Messages dropped because their sender wrote too fast.",
            registry=registry,
        )
        self.chat_events = Counter(
            "tally_gateway_chat_events",
            "Group chat events published to JetStream, by kind (message, edit, reaction, "
            "reaction_count, member, title, member_count) and outcome (published, failed).",
            ["kind", "outcome"],
            registry=registry,
        )
        self.member_count_snapshots = Counter(
            "tally_gateway_member_count_snapshots",
            "Member counts asked of Telegram (getChatMemberCount), by outcome (taken, refused).",
            ["outcome"],
            registry=registry,
        )
        self.commands = Counter(
            "tally_commands",
            "Bot commands received (after throttling), by command name (a known one, else other).",
            ["command"],
            registry=registry,
        )
        self.ignored_updates = Counter(
            "tally_gateway_ignored_updates",
            "Updates dropped before any handler, by reason (chat_not_allowed, no_chat).",
            ["reason"],
            registry=registry,
        )
        self.webhook_requests = Counter(
            "tally_gateway_webhook_requests",
            "Webhook requests, by outcome (accepted, unauthorized, malformed, too_large).",
            ["outcome"],
            registry=registry,
        )
        self.admin_audits = Counter(
            "tally_gateway_admin_audits",
            "Uses of admin commands and alert buttons, by whether they were allowed and whether "
            "their audit event was published (published, failed).",
            ["allowed", "outcome"],
            registry=registry,
        )
        self.handler_errors = Counter(
            "tally_gateway_handler_errors",
            "Updates whose handling raised, by update type (message, callback_query...) and "
            "kind (user_facing, unexpected).",
            ["update", "kind"],
            registry=registry,
        )
        self._zero()
        self._messages = {kind: self.messages.labels(kind=kind) for kind in get_args(MessageKind)}
        self._replies = {
            outcome: self.replies.labels(outcome=outcome) for outcome in get_args(ReplyOutcome)
        }
        self._commands = {
            name: self.commands.labels(command=name) for name in (*KNOWN_COMMANDS, "other")
        }

    def _zero(self) -> None:
        """A 0 for each known label value, so failures read 0 before the first one."""
        zero(self.messages, kind=get_args(MessageKind))
        zero(self.replies, outcome=get_args(ReplyOutcome))
        zero(self.chat_events, kind=KINDS, outcome=get_args(ChatEventOutcome))
        zero(self.commands, command=(*KNOWN_COMMANDS, "other"))
        zero(self.ignored_updates, reason=get_args(IgnoreReason))
        zero(self.webhook_requests, outcome=get_args(WebhookOutcome))
        zero(self.admin_audits, allowed=("true", "false"), outcome=get_args(AuditOutcome))

    def message(self, kind: MessageKind) -> None:
        """Count one handled message of ``kind``."""
        self._messages[kind].inc()

    def reply(self, outcome: ReplyOutcome) -> None:
        """Count one send attempt that ended with ``outcome``."""
        self._replies[outcome].inc()

    def chat_event(self, kind: str, outcome: ChatEventOutcome) -> None:
        """Count one chat event of ``kind`` (a ChatEvent's ``kind``) that ended with
        ``outcome``."""
        self.chat_events.labels(kind=kind, outcome=outcome).inc()

    def member_count_snapshot(self, outcome: SnapshotOutcome) -> None:
        """Count one member count asked of Telegram that ended with ``outcome``."""
        self.member_count_snapshots.labels(outcome=outcome).inc()

    def command(self, name: str) -> None:
        """Count one command ``name`` (without ``/``, lower case); names outside
        KNOWN_COMMANDS count as ``other``, so the label set stays bounded."""
        self._commands.get(name, self._commands["other"]).inc()

    def ignored(self, reason: IgnoreReason) -> None:
        """Count one update dropped for ``reason``."""
        self.ignored_updates.labels(reason=reason).inc()

    def webhook(self, outcome: WebhookOutcome) -> None:
        """Count one webhook request that ended with ``outcome``."""
        self.webhook_requests.labels(outcome=outcome).inc()

    def audit(self, *, allowed: bool, outcome: AuditOutcome) -> None:
        """Count one admin command or button use (``allowed`` or refused) whose audit event
        ended with ``outcome``."""
        self.admin_audits.labels(allowed=str(allowed).lower(), outcome=outcome).inc()

    def handler_error(self, update: str, kind: HandlerErrorKind) -> None:
        """Count one update of type ``update`` (Telegram's update types, a bounded set) whose
        handling raised an error of ``kind``."""
        self.handler_errors.labels(update=update, kind=kind).inc()
