"""``tally health``: is every component of a running Tally up?

Checks, all at once and each bounded by ``TIMEOUT_S``: NATS (connects, and JetStream has the
deployment's streams), PostgreSQL (answers, and reports its migration), and each service
``tally up`` started (its ``/health/ready`` answers 2xx: the service's own NATS and
database checks passed). The probes are :mod:`tally.runtime.health`'s, which the admins'
/health in Telegram uses too.
"""

import asyncio

from rich.table import Table

from tally.contracts.subjects import Subjects
from tally.runtime.health import (
    TIMEOUT_S,
    Check,
    nats_streams,
    postgres_migration,
    service_ready,
    timed,
)

__all__ = ["TIMEOUT_S", "Check", "check_all", "health_table"]


async def check_all(
    *,
    nats_url: str,
    database_url: str,
    prefix: str,
    services: dict[str, str],
    nats_auth: dict[str, str] | None = None,
) -> list[Check]:
    """Every component's :class:`Check`, NATS (as ``nats_auth``'s user, when given) and
    PostgreSQL first, then the services."""
    probes = [
        timed("nats", nats_streams(nats_url, Subjects(prefix), auth=nats_auth)),
        timed("postgresql", postgres_migration(database_url)),
        *(timed(name, asyncio.to_thread(service_ready, url)) for name, url in services.items()),
    ]
    return list(await asyncio.gather(*probes))


def health_table(checks: list[Check]) -> Table:
    """The checks as a table: component, status (green up, red down), ms, detail."""
    table = Table(title="Tally health")
    for column in ("component", "status", "ms", "detail"):
        table.add_column(column)
    for check in checks:
        colour = "green" if check.status == "up" else "red"
        status = f"[{colour}]{check.status}[/]"
        table.add_row(check.component, status, f"{check.elapsed_ms:.0f}", check.detail)
    return table
