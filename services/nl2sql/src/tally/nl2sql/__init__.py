"""Tally nl2sql service: questions (``questions.asked``) into typed query plans (``plans.ready``).

The built-in parser reads questions offline. With an LLM configured (``NL_ENGINE``,
``LLM_BASE_URL``, ``LLM_MODEL``), questions it refuses go to the model, which answers with a
plan (validated like the parser's), SQL for the executor's firewall (``sql.proposed``) or a
refusal. A refusal or a failure is answered at once on the asker's answer subject; it never
reaches the executor.
"""
