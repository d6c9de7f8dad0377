"""What ingest's handlers take from the broker's context, as ``Annotated`` aliases.

:func:`tally.ingest.app.create_broker_for` puts each value in the broker's context once
(``broker.context.set_global``), and a handler names what it needs by type, e.g.
``async def remember_user(message: NatsMessage, engine: EngineDep) -> None``.
"""

from typing import Annotated, Final

from faststream import Context, ContextRepo, Depends
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.contracts.subjects import Subjects
from tally.ingest.config import IngestSettings
from tally.ingest.delivery import Delivery
from tally.ingest.metrics import IngestMetrics

SETTINGS: Final = "ingest_settings"
SUBJECTS: Final = "subjects"
ENGINE: Final = "engine"
METRICS: Final = "ingest_metrics"

SettingsDep = Annotated[IngestSettings, Context(SETTINGS)]
SubjectsDep = Annotated[Subjects, Context(SUBJECTS)]
EngineDep = Annotated[AsyncEngine, Context(ENGINE)]
"""The connection pool ingest writes through."""
MetricsDep = Annotated[IngestMetrics, Context(METRICS)]


def provide(
    context: ContextRepo,
    *,
    settings: IngestSettings,
    subjects: Subjects,
    engine: AsyncEngine,
    metrics: IngestMetrics,
) -> None:
    """Put what every handler may take in ``context`` (a broker's)."""
    context.set_global(SETTINGS, settings)
    context.set_global(SUBJECTS, subjects)
    context.set_global(ENGINE, engine)
    context.set_global(METRICS, metrics)


def delivery(settings: SettingsDep, metrics: MetricsDep, subjects: SubjectsDep) -> Delivery:
    """The dead-letter and redelivery rules with this broker's settings (see ``Delivery``)."""
    return Delivery(settings=settings, metrics=metrics, subjects=subjects)


DeliveryDep = Annotated[Delivery, Depends(delivery)]
