"""The activity record: answers, users seen, feedback and the admin audit from stream ACTIVITY.

:mod:`.answers` logs answered questions (a fetch per INSERT); :mod:`.handlers` keeps bot
users, records feedback and the admin audit, and makes the stream's router.
"""
