"""Settings changes go to ingest, which owns the write, as SettingsChanged chat events."""

from datetime import datetime
from uuid import uuid4

import nats.errors
from faststream.nats import NatsBroker

from tally.chatstore.read import ChatInfo
from tally.contracts.chat_events import ChatSettings, SettingsChanged
from tally.contracts.subjects import Subjects
from tally.infra.errors import UserFacingError

PUBLISH_TIMEOUT_S = 5.0


class BrokerUnavailableError(UserFacingError):
    """JetStream did not accept the event."""


def settings_changed(
    chat: ChatInfo, settings: ChatSettings, *, now: datetime, changed_by: int | None = None
) -> SettingsChanged:
    """The event saying ``chat``'s settings are now ``settings`` (a fresh event id), changed
    by Telegram user ``changed_by`` (None: the operator)."""
    return SettingsChanged(
        event_id=f"settings:{uuid4().hex}",
        chat_id=chat.chat_id,
        chat_type=chat.chat_type,
        chat_title=chat.title,
        occurred_at=now,
        settings=settings,
        changed_by=changed_by,
    )


async def publish_settings(broker: NatsBroker, subjects: Subjects, event: SettingsChanged) -> None:
    """Publish ``event`` on ``{p}.chats.{chat_id}.settings`` into the CHAT_EVENTS stream, with
    its event id as ``Nats-Msg-Id``. Raises BrokerUnavailableError when JetStream does not
    acknowledge it within PUBLISH_TIMEOUT_S."""
    try:
        await broker.publish(
            event,
            subjects.chat_event(event.chat_id, event.kind),
            headers={"Nats-Msg-Id": event.event_id},
            stream=subjects.chat_events_stream,
            timeout=PUBLISH_TIMEOUT_S,
        )
    except (TimeoutError, nats.errors.Error) as error:
        raise BrokerUnavailableError("The message bus did not take the change.") from error
