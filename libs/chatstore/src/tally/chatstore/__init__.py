"""Tally's chat store: the chat tables (:mod:`.tables`, one handle per table), written by
:mod:`.write` (ingest, ``tally replay``, ``tally retention``) and read by :mod:`.read` (the
executor's chat reports, the dashboard)."""
