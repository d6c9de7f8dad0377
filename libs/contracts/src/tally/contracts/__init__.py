"""Tally's contracts: every message on the bus (:mod:`.events`, :mod:`.chat_events`,
:mod:`.alerting`, :mod:`.chat_reports`, :mod:`.ops_reports`), every subject and durable
consumer (:mod:`.subjects`), stream and key-value bucket (:mod:`.streams`, :mod:`.cache`),
and who may publish or subscribe what (:mod:`.access`). Each service's AsyncAPI document
(``/asyncapi.json`` on its HTTP port) is generated from these models."""
