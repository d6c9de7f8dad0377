"""Metamorphic and property tests of the built-in parser: unread words never go unnoticed."""
