"""The chat settings bucket: each chat's settings as ingest last stored them, for the gateway.

Key ``str(chat_id)``, value the :class:`~tally.contracts.chat_events.ChatSettings` JSON, in the
key-value bucket ``subjects.chat_settings_bucket`` (one value per key, created when missing).
Written after the transaction that stored the settings committed.
"""

from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError
from nats.js.kv import KeyValue

from tally.contracts.chat_events import ChatSettings
from tally.contracts.streams import chat_settings_config
from tally.contracts.subjects import Subjects


async def settings_bucket(js: JetStreamContext, subjects: Subjects) -> KeyValue:
    """The chat settings bucket, created (history 1) when missing."""
    try:
        return await js.key_value(subjects.chat_settings_bucket)
    except BucketNotFoundError:
        return await js.create_key_value(chat_settings_config(subjects))


async def publish_settings(
    js: JetStreamContext, subjects: Subjects, settings: dict[int, ChatSettings]
) -> None:
    """Put each chat's ``settings`` in the bucket (nothing to do when empty).

    Raises ``nats.errors.Error`` when JetStream does not store a value.
    """
    if not settings:
        return
    bucket = await settings_bucket(js, subjects)
    for chat_id, chosen in sorted(settings.items()):
        await bucket.put(str(chat_id), chosen.model_dump_json().encode())
