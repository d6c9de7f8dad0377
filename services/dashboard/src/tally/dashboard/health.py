"""``/metrics`` and ``/health`` as every Tally service serves them, without the token."""

from typing import Annotated

from fastapi import APIRouter, Header, Response, status
from opentelemetry.instrumentation.utils import suppress_instrumentation
from prometheus_client.exposition import choose_encoder

from tally.dashboard.deps import ServicesDep

router = APIRouter(include_in_schema=False)
PING_TIMEOUT_S = 2.0


@router.get("/metrics")
async def metrics(services: ServicesDep, accept: Annotated[str, Header()] = "") -> Response:
    """The registry in Prometheus's text format, or in OpenMetrics (with exemplars) when the
    ``Accept`` header asks for ``application/openmetrics-text``."""
    encode, media_type = choose_encoder(accept)
    return Response(encode(services.registry), media_type=media_type)


@router.get("/health")
async def health(services: ServicesDep) -> Response:
    """204 when NATS answers a ping, else 500 (as FastStream's ping route)."""
    alive = await services.broker.ping(timeout=PING_TIMEOUT_S)
    return Response(status_code=204 if alive else status.HTTP_500_INTERNAL_SERVER_ERROR)


@router.get("/health/live")
async def live() -> Response:
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/health/ready")
async def ready(services: ServicesDep) -> Response:
    """204 when NATS is connected and PostgreSQL answers, else 503. Untraced, its SQL too: a
    probe every few seconds would bury the requests in Jaeger."""
    nats = await services.broker.ping(timeout=PING_TIMEOUT_S)
    with suppress_instrumentation():
        database = await services.reader.answers()
    ok = nats and database
    return Response(status_code=204 if ok else status.HTTP_503_SERVICE_UNAVAILABLE)
