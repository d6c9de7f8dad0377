"""FastStream's ``Context`` resolved in the event loop.

fast_depends resolves a handler's custom fields with ``run_async``: a ``use`` that is not a
coroutine function, such as FastStream's ``Context.use``, runs in a worker thread
(``anyio.to_thread.run_sync``), one thread hop per ``Context`` parameter per message. Taking
a value out of the broker's context is a dictionary look-up: :class:`InlineContext` does it
where it is (BENCHMARKS.md, "The gateway's CPU per question").
"""

from typing import Any

from faststream._internal.context import Context  # the class; faststream.Context makes one


class InlineContext(Context):
    """``Annotated[T, InlineContext("name")]``: FastStream's ``Context("name")`` (same
    arguments, same value), resolved in the event loop. For async handlers only (fast_depends
    resolves a sync handler's fields without awaiting)."""

    async def use(self, /, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        """:meth:`Context.use`, as a coroutine function so fast_depends awaits it in place."""
        return super().use(**kwargs)
