"""Starting a fake HTTP server of the tests on a free local port (``tally.cli.fake_bot_api``'s)."""

from tally.cli.fake_bot_api import serve

__all__ = ["serve"]
