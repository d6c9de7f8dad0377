"""Publishing captured chat events to JetStream, and whether a chat member is an administrator.

A publish waits for JetStream's confirmation and is retried on NATS errors; one that still
fails is logged and counted (``tally_gateway_chat_events_total{outcome="failed"}``), never
dropped silently. Each event carries ``Nats-Msg-Id: <event_id>``, so an update Telegram hands
over again (after a restart) is stored once.
"""

from collections import Counter
from collections.abc import Sequence
from typing import Literal

import nats.errors
import structlog
from aiogram.enums import ChatMemberStatus
from aiogram.types.chat_member_union import ChatMemberUnion
from faststream.nats import NatsBroker
from opentelemetry import trace
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential,
)

from tally.contracts.chat_events import ChatEvent
from tally.contracts.subjects import Subjects
from tally.gateway.domain.history import Published
from tally.gateway.metrics import GatewayMetrics

RETRY_FOR_S = 20.0
BACKOFF_S = 0.25
BACKOFF_MAX_S = 2.0
PUBLISH_TIMEOUT_S = 2.0
"""A publish is tried for up to ``RETRY_FOR_S`` seconds, each try waiting up to
``PUBLISH_TIMEOUT_S`` for JetStream's confirmation, with 0.25, 0.5, 1, then 2 s between
tries. Twenty seconds outlast a NATS cluster electing a new leader for the stream when a
node dies ("no responders" until then): four tries in 1.75 s lost events there
(tests/chaos/test_cluster_loadtest.py)."""

PublishOutcome = Literal["new", "duplicate", "failed"]
_ADMINS = frozenset({ChatMemberStatus.CREATOR, ChatMemberStatus.ADMINISTRATOR})

tracer = trace.get_tracer("tally.gateway")
log = structlog.get_logger(__name__)


class ChatEventPublisher:
    """Publishes chat events to the CHAT_EVENTS stream, confirmed, retried and counted."""

    def __init__(
        self,
        broker: NatsBroker,
        subjects: Subjects,
        metrics: GatewayMetrics,
        *,
        retry_for_s: float = RETRY_FOR_S,
    ) -> None:
        self._broker, self._subjects, self._metrics = broker, subjects, metrics
        self._retry_for_s = retry_for_s

    async def publish(self, events: Sequence[ChatEvent], *, update_id: int | None) -> None:
        """Publish the ``events`` of update ``update_id`` (None: of no update, e.g. a daily
        member count) in one ``telegram capture`` span."""
        if not events:
            return
        with tracer.start_as_current_span("telegram capture") as span:
            if update_id is not None:
                span.set_attribute("tally.update_id", update_id)
            span.set_attribute("tally.chat_id", events[0].chat_id)
            for event in events:
                if await self._publish_one(event) == "failed":
                    span.set_status(trace.StatusCode.ERROR, "chat event not published")

    async def publish_history(self, events: Sequence[ChatEvent], *, chat_id: int) -> Published:
        """Publish an imported history's ``events`` one after another, in order (an edit or
        reaction totals after their message, as ingest needs them), in one ``telegram history
        import`` span; say how many JetStream stored anew or had already. The first event
        JetStream does not confirm after its retries stops the publishing: it and the events
        after it are counted ``failed``."""
        outcomes: Counter[str] = Counter()
        with tracer.start_as_current_span("telegram history import") as span:
            span.set_attribute("tally.chat_id", chat_id)
            for done, event in enumerate(events):
                outcome = await self._publish_one(event)
                if outcome == "failed":
                    span.set_status(trace.StatusCode.ERROR, "chat events not published")
                    outcomes["failed"] = len(events) - done
                    break
                outcomes[outcome] += 1
        return Published(outcomes["new"], outcomes["duplicate"], outcomes["failed"])

    async def _publish_one(self, event: ChatEvent) -> PublishOutcome:
        """Publish ``event`` (retried); ``new`` or ``duplicate`` as JetStream confirmed it
        (FastStream's in-memory test broker confirms nothing: ``new``), ``failed`` after the
        last try."""
        subject = self._subjects.chat_event(event.chat_id, event.kind)
        retrying = AsyncRetrying(
            retry=retry_if_exception_type((nats.errors.Error, TimeoutError)),
            stop=stop_after_delay(self._retry_for_s),
            wait=wait_exponential(multiplier=BACKOFF_S, min=BACKOFF_S, max=BACKOFF_MAX_S),
            before_sleep=_log_retry,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    ack = await self._broker.publish(
                        event,
                        subject,
                        headers={"Nats-Msg-Id": event.event_id},
                        stream=self._subjects.chat_events_stream,
                        timeout=PUBLISH_TIMEOUT_S,
                    )
        except RetryError as error:
            cause = error.last_attempt.exception()
            log.error("chat event not published", event_id=event.event_id, error=repr(cause))
            self._metrics.chat_event(event.kind, "failed")
            return "failed"
        self._metrics.chat_event(event.kind, "published")
        if getattr(ack, "duplicate", False):  # FastStream's in-memory test broker acks None
            log.debug("chat event already in the stream", event_id=event.event_id)
            return "duplicate"
        return "new"


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    log.warning("chat event publish failed", attempt=state.attempt_number, error=repr(error))


def is_administrator(member: ChatMemberUnion) -> bool:
    """True for the chat's creator or an administrator."""
    return member.status in _ADMINS
