"""A compatibility fix between FastStream 0.7.8 and nats-py 2.15/2.16, applied on import.

FastStream's JetStream pull subscribers treat an idle ``fetch`` timeout as "no messages yet"
by catching ``nats.errors.TimeoutError``; nats-py's ``fetch`` raises the builtin
``asyncio.TimeoutError`` instead, which that clause does not catch (``nats.errors.TimeoutError``
subclasses it, not the other way round). Each idle period then logs an ERROR with a
traceback and restarts the consume task. Letting the module's ``TimeoutError`` name be the
builtin makes the clause catch both. Remove once FastStream catches the builtin.
"""

import builtins

from faststream.nats.subscriber.usecases import stream_pull_subscriber


def apply() -> None:
    """Idempotently point the pull subscriber module's ``TimeoutError`` at the builtin."""
    stream_pull_subscriber.TimeoutError = builtins.TimeoutError  # type: ignore[attr-defined,assignment]
