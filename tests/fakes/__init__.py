"""Fakes of the outside world (not of Tally's own code) for tests: a Telegram Bot API server."""
