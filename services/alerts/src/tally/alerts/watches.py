"""The ``watch`` command: an admin's plain words become a data alert, backtested over the
stored history, then enabled (see tally.alerts.domain.watch and tally.alerts.measures).

Measures are read through the ``tally_reader`` login (the role the executor runs plans as),
so a data alert can read only what a question can, in read-only sessions with a statement
timeout (:func:`reader_engine`).
"""

from datetime import datetime
from functools import partial

from sqlalchemy.ext.asyncio import AsyncEngine

from tally.alerts.config import AlertsSettings
from tally.alerts.domain.rules import MeasureSource
from tally.alerts.domain.watch import WatchRefusal, compile_watch
from tally.alerts.engine import AlertEngine, MeasureReader
from tally.alerts.measures import backtest, read_measure
from tally.contracts.alerting import WATCH_IN_PRIVATE, AlertCommand, AlertCommandReply
from tally.infra.db.reader import read_only_engine

USAGE = (
    "Usage: /watch <measure> <condition>, e.g. "
    "/watch messages in this chat drop 50% below the same hour last week"
)


def reader_engine(settings: AlertsSettings) -> AsyncEngine:
    """An engine logged in as ``settings.reader_url`` (``tally_reader``), two connections.

    Every session is read-only with ``statement_timeout`` (``settings.statement_timeout_ms``)
    as server settings, like the executor's and the dashboard's readers
    (:func:`tally.infra.db.reader.read_only_engine`): a write fails and a long backtest is
    cancelled by PostgreSQL itself.
    """
    return read_only_engine(
        settings.reader_url,
        statement_timeout_ms=settings.statement_timeout_ms,
        application_name="tally-alerts-measures",
        pool_size=2,
    )


def measure_reader(engine: AsyncEngine) -> MeasureReader:
    """The engine's MeasureReader: :func:`read_measure` on ``engine``."""
    reader = partial(read_measure, engine=engine)

    async def read(source: MeasureSource, at: datetime) -> float | None:
        return await reader(source, at)

    return read


async def watch(
    alerts: AlertEngine, command: AlertCommand, now: datetime, *, database: AsyncEngine
) -> AlertCommandReply:
    """Compile ``command.text``; refuse with the parser's sentence and an example, or
    backtest the rule over the last 30 days and enable it. The reply names the watch id and
    the backtest ("This would have fired 3 times in the last 30 days …"). A watch asked from
    a private chat (a positive ``chat_id``) is refused with WATCH_IN_PRIVATE."""
    if command.chat_id is not None and command.chat_id > 0:
        return AlertCommandReply(ok=False, message=WATCH_IN_PRIVATE)
    if not command.text or not command.text.strip():
        return AlertCommandReply(ok=False, message=USAGE)
    rule = compile_watch(
        command.text,
        language=command.language,
        chat_id=command.chat_id,
        timezone=command.timezone,
        now=now,
    )
    if isinstance(rule, WatchRefusal):
        example = f" For example: {rule.examples[0]}" if rule.examples else ""
        return AlertCommandReply(ok=False, message=f"{rule.reason}{example}")
    tested = await backtest(rule, engine=database, now=now)
    watch_id = await alerts.add_watch(rule, created_by=command.actor_id, chat_id=command.chat_id)
    described = rule.summary.replace("{value}", "…")
    return AlertCommandReply(
        ok=True,
        message=f"{described} Watch {watch_id} is on. {tested.describe(command.language)}",
    )
