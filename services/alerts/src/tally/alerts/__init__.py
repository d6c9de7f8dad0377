"""Tally alerts service."""
