"""``/metrics`` and ``/health`` as every Tally service serves them, without the token."""

from fastapi import APIRouter, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tally.dashboard.deps import ServicesDep

router = APIRouter(include_in_schema=False)
PING_TIMEOUT_S = 2.0


@router.get("/metrics")
async def metrics(services: ServicesDep) -> Response:
    return Response(generate_latest(services.registry), media_type=CONTENT_TYPE_LATEST)


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
    """204 when NATS is connected and PostgreSQL answers, else 503."""
    nats = await services.broker.ping(timeout=PING_TIMEOUT_S)
    database = await services.reader.answers()
    ok = nats and database
    return Response(status_code=204 if ok else status.HTTP_503_SERVICE_UNAVAILABLE)
