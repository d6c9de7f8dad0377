"""Test support: fakes of the outside world (``telegram``, ``llm``, ``otlp``) and ``processes``.

A dev dependency of the workspace only; production code never imports it (an import-linter
contract checks) and no image installs it.
"""
