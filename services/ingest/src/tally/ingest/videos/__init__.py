"""The video import: batches of videos and snapshots from stream VIDEO_STATS.

:mod:`.handlers` stores each batch (durable ``ingest-videos``), moves the versions of the
datasets it changed (:mod:`.versions`) and reports progress to the importing CLI.
"""
