"""Every NATS subject and JetStream stream name, defined once.

Subjects are namespaced by a prefix (``SUBJECT_PREFIX``, default ``tally``):

=================================  ==========================================================
``{p}.questions.asked``            QuestionAsked, gateway/CLI -> nl2sql (queue group)
``{p}.plans.ready``                QueryPlanned, nl2sql -> executor (queue group)
``{p}.sql.proposed``               SqlProposed (LLM-written SQL), nl2sql -> executor firewall
``{p}.answers.{channel}.{qid}``    QuestionAnswered, nl2sql/executor -> the asking channel
``{p}.answers.{channel}.{to}.{qid}``  the same, for a question with ``reply_to`` ``to``: the
                                   one gateway instance that asked it (several gateways)
``{p}.videos.batch``               VideoBatch, CLI import -> ingest (stream VIDEO_STATS)
``{p}.imports.{import_id}``        BatchStored, ingest -> the importing CLI
``{p}.users.seen``                 UserSeen, gateway -> ingest (stream ACTIVITY)
``{p}.users.feedback``             AnswerFeedback, gateway -> ingest (stream ACTIVITY)
``{p}.users.audit``                AdminAuditEvent (admin commands and alert buttons, allowed
                                   or refused), gateway -> ingest (stream ACTIVITY)
``{p}.alerts.{status}``            AlertNotification, alerts -> gateway (stream ACTIVITY)
``{p}.alertctl.command``           AlertCommand -> AlertCommandReply (request/reply), admins'
                                   buttons and alert commands, gateway -> alerts
``{p}.dlq.{service}``              DeadLetter, any consumer -> operators (stream DEAD_LETTERS)
``{p}.reports.chat``               ChatReportRequested -> ChatReport (request/reply),
                                   gateway -> executor (queue group)
``{p}.reports.ops``                OpsReportRequested -> OpsReport (request/reply), the
                                   admins' /analytics, /metrics and /health, gateway ->
                                   executor (queue group)
``{p}.chats.{chat_id}.{kind}``     ChatEvent (tally.contracts.chat_events), gateway/dashboard ->
                                   ingest (stream CHAT_EVENTS); ``kind`` is the event's kind
``{p}.digests.ready``              DigestReady (tally.contracts.digests), alerts -> gateway
                                   (core NATS, queue group): a chat's digest card to post
=================================  ==========================================================

Key-value buckets: ``{P}_ANSWERS`` holds the answer cache and the version of each dataset
(see :mod:`tally.contracts.cache`); ``{P}_CHAT_SETTINGS`` holds each chat's settings as ingest
last stored them (key: the chat id), so the gateway knows which chats allow storing text;
``{P}_INGEST_LEASE`` names the ingest replica that writes chat events; ``{P}_DIGESTS`` holds
each chat's digest schedule and the last period sent (key: the chat id; written by the gateway
on /digest and by the alerts service's scheduler, see :mod:`tally.contracts.digests`);
``{P}_GATEWAY_STATE`` holds what every gateway must see alike, whichever one an update reaches:
the throttles' last times per user, the readings offered for ambiguous questions, each chat's
last answer and the bot's role in each group (keys and values: :mod:`tally.gateway.shared`).

Durable consumers (names shared by every deployment; streams are per prefix): ingest's
``ingest-videos`` (VIDEO_STATS), ``ingest-activity``, ``ingest-users``, ``ingest-feedback``,
``ingest-audit`` (ACTIVITY), ``ingest-chats`` (CHAT_EVENTS); the alerts service's ``alerts``
(ACTIVITY). The messages themselves are in :mod:`tally.contracts.events` (the question path,
video batches, users, dead letters), :mod:`.chat_events`, :mod:`.alerting`,
:mod:`.chat_reports` and :mod:`.ops_reports`; the streams' and buckets' configuration in
:mod:`.streams` and :mod:`.cache`. Who may publish and subscribe what is in
:mod:`tally.contracts.access`.
"""

from dataclasses import dataclass
from typing import Literal

Channel = Literal["telegram", "cli"]
VIDEOS_DURABLE = "ingest-videos"
ANSWERS_DURABLE = "ingest-activity"
USERS_DURABLE = "ingest-users"
FEEDBACK_DURABLE = "ingest-feedback"
AUDIT_DURABLE = "ingest-audit"
CHATS_DURABLE = "ingest-chats"
ALERTS_DURABLE = "alerts"


@dataclass(frozen=True, slots=True)
class Subjects:
    """The subjects and stream names of one Tally deployment, derived from its prefix."""

    prefix: str = "tally"

    @property
    def question_asked(self) -> str:
        return f"{self.prefix}.questions.asked"

    @property
    def plan_ready(self) -> str:
        return f"{self.prefix}.plans.ready"

    @property
    def sql_proposed(self) -> str:
        """LLM-written SQL awaiting the executor's firewall (queue group ``executor``)."""
        return f"{self.prefix}.sql.proposed"

    def answer(self, channel: Channel, question_id: str, reply_to: str | None = None) -> str:
        """Where a question's answer goes: ``answers.{channel}.{question_id}``, or
        ``answers.{channel}.{reply_to}.{question_id}`` when the question names the instance
        that waits for it (``QuestionAsked.reply_to``)."""
        if reply_to is None:
            return f"{self.prefix}.answers.{channel}.{question_id}"
        return f"{self.prefix}.answers.{channel}.{reply_to}.{question_id}"

    @staticmethod
    def answer_headers(question_id: str) -> dict[str, str]:
        """Headers for a question's answer: ``Nats-Msg-Id`` ``answer-<question id>``, so the
        ACTIVITY stream keeps one answer per question when a re-asked question (see
        ``tally.cli.client.Asker``) is answered twice within its duplicate window (2 min)."""
        return {"Nats-Msg-Id": f"answer-{question_id}"}

    def answers_for(self, channel: Channel) -> str:
        """Wildcard over every answer for one channel to a question without ``reply_to``."""
        return f"{self.prefix}.answers.{channel}.*"

    def answers_to(self, channel: Channel, reply_to: str) -> str:
        """Wildcard over the answers for one channel's instance ``reply_to``."""
        return f"{self.prefix}.answers.{channel}.{reply_to}.*"

    def answers_routed(self, channel: Channel) -> str:
        """Wildcard over the answers for every instance of one channel (:meth:`answers_to`)."""
        return f"{self.prefix}.answers.{channel}.*.*"

    @property
    def answers_all(self) -> str:
        return f"{self.prefix}.answers.>"

    @property
    def video_batch(self) -> str:
        return f"{self.prefix}.videos.batch"

    def import_progress(self, import_id: str) -> str:
        return f"{self.prefix}.imports.{import_id}"

    @property
    def imports_all(self) -> str:
        """Wildcard over every import's progress."""
        return f"{self.prefix}.imports.*"

    @property
    def user_seen(self) -> str:
        return f"{self.prefix}.users.seen"

    @property
    def feedback(self) -> str:
        """Under ``users.>``, so the ACTIVITY stream keeps it."""
        return f"{self.prefix}.users.feedback"

    @property
    def admin_audit(self) -> str:
        """Uses of admin commands and alert buttons; under ``users.>``, so the ACTIVITY
        stream keeps them."""
        return f"{self.prefix}.users.audit"

    def alert(self, status: Literal["firing", "resolved"]) -> str:
        return f"{self.prefix}.alerts.{status}"

    @property
    def alerts_all(self) -> str:
        return f"{self.prefix}.alerts.*"

    @property
    def alert_command(self) -> str:
        """Admins' alert commands (request/reply, answered by the alerts service). Outside
        ``alerts.>`` on purpose: a request on a stream's subject would be answered by
        JetStream's PubAck."""
        return f"{self.prefix}.alertctl.command"

    def dead_letter(self, service: str) -> str:
        return f"{self.prefix}.dlq.{service}"

    @property
    def chat_report(self) -> str:
        """Requests for a group's report (/stats, /top, ...), answered by the executor."""
        return f"{self.prefix}.reports.chat"

    @property
    def ops_report(self) -> str:
        """Admins' operations reports (/analytics, /metrics, /health), answered by the
        executor. Like :attr:`chat_report`, under no stream's subjects: a request there would
        be answered by JetStream's PubAck."""
        return f"{self.prefix}.reports.ops"

    def chat_event(self, chat_id: int, kind: str) -> str:
        """One chat's events of one kind; chat ids are negative for groups (``-100…``)."""
        return f"{self.prefix}.chats.{chat_id}.{kind}"

    def chat_events_of_kind(self, kind: str) -> str:
        """Wildcard over every chat's events of one kind."""
        return f"{self.prefix}.chats.*.{kind}"

    @property
    def chat_events_all(self) -> str:
        return f"{self.prefix}.chats.>"

    # JetStream streams: names may not contain dots, so the prefix is upper-cased.

    @property
    def chat_events_stream(self) -> str:
        """Every chat event, kept without an age limit (replay rebuilds the chat tables);
        ingest purges one chat's events on its subjects (tally.chatstore.write.stream_purge)."""
        return f"{self.prefix.upper()}_CHAT_EVENTS"

    @property
    def chat_events_subjects(self) -> list[str]:
        return [self.chat_events_all]

    @property
    def chat_settings_bucket(self) -> str:
        """Key-value bucket of chat settings by chat id (written by ingest)."""
        return f"{self.prefix.upper()}_CHAT_SETTINGS"

    @property
    def video_stats_stream(self) -> str:
        return f"{self.prefix.upper()}_VIDEO_STATS"

    @property
    def video_stats_subjects(self) -> list[str]:
        return [f"{self.prefix}.videos.>"]

    @property
    def activity_stream(self) -> str:
        """Answers, users seen and alerts: the record ingest writes the questions log from."""
        return f"{self.prefix.upper()}_ACTIVITY"

    @property
    def activity_subjects(self) -> list[str]:
        return [self.answers_all, f"{self.prefix}.users.>", f"{self.prefix}.alerts.>"]

    @property
    def dead_letter_stream(self) -> str:
        return f"{self.prefix.upper()}_DEAD_LETTERS"

    @property
    def dead_letter_subjects(self) -> list[str]:
        return [f"{self.prefix}.dlq.>"]

    @property
    def ingest_lease_bucket(self) -> str:
        """Key-value bucket of the lease naming the ingest replica that writes chat events."""
        return f"{self.prefix.upper()}_INGEST_LEASE"

    @property
    def digests_bucket(self) -> str:
        """Key-value bucket of chat digests by chat id (tally.contracts.digests)."""
        return f"{self.prefix.upper()}_DIGESTS"

    @property
    def gateway_state_bucket(self) -> str:
        """Key-value bucket of the gateways' shared per-user and per-chat state."""
        return f"{self.prefix.upper()}_GATEWAY_STATE"

    @property
    def digest_ready(self) -> str:
        """Digests to post, alerts -> gateway (core NATS; outside every stream)."""
        return f"{self.prefix}.digests.ready"

    @property
    def answers_bucket(self) -> str:
        """The key-value bucket of cached answers and dataset versions (tally.contracts.cache)."""
        return f"{self.prefix.upper()}_ANSWERS"

    @property
    def streams(self) -> list[str]:
        """The deployment's JetStream streams (configured in :mod:`tally.contracts.streams`)."""
        return [
            self.video_stats_stream,
            self.activity_stream,
            self.dead_letter_stream,
            self.chat_events_stream,
        ]

    @property
    def ingest_consumers(self) -> list[tuple[str, str]]:
        """(stream, durable) of every ingest consumer."""
        return [
            (self.video_stats_stream, VIDEOS_DURABLE),
            (self.activity_stream, ANSWERS_DURABLE),
            (self.activity_stream, USERS_DURABLE),
            (self.activity_stream, FEEDBACK_DURABLE),
            (self.activity_stream, AUDIT_DURABLE),
            (self.chat_events_stream, CHATS_DURABLE),
        ]
