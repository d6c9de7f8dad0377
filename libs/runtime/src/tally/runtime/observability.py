"""FastStream's Prometheus and OpenTelemetry middlewares, with bounded subject names.

Answer subjects carry the question id (``tally.answers.cli.<uuid>``). FastStream labels its
metrics and names its spans by the concrete subject, which would make one Prometheus series
per question: label values must be bounded. Here every id-like token of a subject becomes
``*`` (``tally.answers.cli.*``) in metric labels and span names; the span's
``messaging.destination.name`` attribute keeps the concrete subject.

FastStream's own lines about each message are written outside its span; :class:`MessageLog`
writes one inside, so ``LOG_LEVEL=DEBUG`` shows each message with its trace and span ids.
"""

import re
from collections.abc import Callable
from typing import Any

import structlog
from faststream import BaseMiddleware
from faststream._internal.basic_types import AsyncFuncAny
from faststream.message import StreamMessage
from faststream.nats.opentelemetry.provider import telemetry_attributes_provider_factory
from faststream.nats.prometheus.provider import settings_provider_factory
from faststream.opentelemetry.middleware import TelemetryMiddleware
from faststream.prometheus import PrometheusMiddleware
from prometheus_client import CollectorRegistry

log = structlog.get_logger(__name__)
_ID_TOKEN = re.compile(
    r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{16,}|-?\d+)$"
)


def subject_pattern(subject: str) -> str:
    """``subject`` with each id-like token (UUID, 16+ hex digits, integer: chat ids are
    negative) replaced by ``*``."""
    return ".".join("*" if _ID_TOKEN.match(token) else token for token in subject.split("."))


class _BoundedProvider:
    """Delegates to a FastStream settings provider, reporting subject patterns as names."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def get_publish_destination_name_from_cmd(self, cmd: Any) -> str:
        return subject_pattern(self._inner.get_publish_destination_name_from_cmd(cmd))

    def get_publish_destination_name(self, cmd: Any) -> str:
        return subject_pattern(self._inner.get_publish_destination_name(cmd))

    def get_consume_destination_name(self, msg: Any) -> str:
        return subject_pattern(self._inner.get_consume_destination_name(msg))

    def get_consume_attrs_from_message(self, msg: Any) -> Any:
        attrs = self._inner.get_consume_attrs_from_message(msg)
        if "destination_name" in attrs:  # the Prometheus label, not the span attribute
            attrs = {**attrs, "destination_name": subject_pattern(attrs["destination_name"])}
        return attrs


def _bounded(factory: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def provider(msg: Any) -> Any:
        inner = factory(msg)
        return None if inner is None else _BoundedProvider(inner)

    return provider


def prometheus_middleware(
    registry: CollectorRegistry, *, service: str
) -> PrometheusMiddleware[Any, Any]:
    """FastStream's NATS metrics (``faststream_*``, app ``tally_<service>``) with bounded labels."""
    return PrometheusMiddleware(
        settings_provider_factory=_bounded(settings_provider_factory),
        registry=registry,
        app_name=f"tally_{service}",
    )


def telemetry_middleware() -> TelemetryMiddleware[Any]:
    """FastStream's OpenTelemetry middleware (context in NATS headers), bounded span names."""
    return TelemetryMiddleware(
        settings_provider_factory=_bounded(telemetry_attributes_provider_factory)
    )


class MessageLog(BaseMiddleware):
    """A FastStream middleware, placed after the telemetry one: a DEBUG line ``message
    received`` with the subject (its pattern) and message id, inside the message's span."""

    async def consume_scope(self, call_next: AsyncFuncAny, msg: StreamMessage[Any]) -> Any:
        subject = getattr(msg.raw_message, "subject", "")
        log.debug("message received", subject=subject_pattern(subject), message_id=msg.message_id)
        return await call_next(msg)
