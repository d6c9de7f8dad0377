"""Chat events from stream CHAT_EVENTS: the consumer and what runs beside it.

:mod:`.handlers` writes each fetch in stream order (:mod:`.order`, ``domain.stream_order``);
:mod:`.lifecycle` holds the lease that lets one replica consume and applies chat retention on
schedule while it holds it.
"""
