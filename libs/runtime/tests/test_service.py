"""run_service's garbage collector settings (issue 17: collections cost ingest a quarter of
its CPU under CPython's defaults)."""

import gc
from collections.abc import Coroutine, Iterator
from types import SimpleNamespace
from typing import Any, cast

import pytest
import uvloop
from faststream.asgi import AsgiFastStream

from tally.infra.settings import CommonSettings
from tally.runtime import service


@pytest.fixture
def collector() -> Iterator[None]:
    """Put the collector back as it was, whatever the test did to it."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


class App:
    """Stands in for the FastStream app: ``run`` returns a coroutine that does nothing."""

    async def _serve(self) -> None:
        return None

    def run(self, **_: Any) -> Coroutine[Any, Any, None]:
        return self._serve()


def test_run_service_freezes_start_up_and_raises_the_young_threshold(
    collector: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[bool] = []

    def run(main: Coroutine[Any, Any, None]) -> None:
        main.close()
        ran.append(gc.get_freeze_count() > 0)

    monkeypatch.setattr(service, "setup_logging", lambda *_, **__: None)
    monkeypatch.setattr(service, "setup_tracing", lambda *_, **__: None)
    monkeypatch.setattr(uvloop, "run", run)
    settings = SimpleNamespace(  # only what run_service reads
        log_level="INFO",
        log_json=False,
        otel_exporter_otlp_endpoint=None,
        otel_exporter_otlp_traces_endpoint=None,
        metrics_host="127.0.0.1",
        metrics_port=0,
    )
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)

    app = cast(AsgiFastStream, App())
    service.run_service("test", cast(CommonSettings, settings), lambda _: app)

    assert ran == [True]
    assert gc.get_threshold() == (service.GC_YOUNG_THRESHOLD, 10, 10)
