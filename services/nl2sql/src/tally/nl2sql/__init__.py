"""Tally nl2sql service: questions (``questions.asked``) into typed query plans (``plans.ready``).

A question the built-in parser cannot read with certainty is answered at once with a
refusal on the asker's answer subject; it never reaches the executor.
"""
