"""External tools the deploy checks and the monitoring test run (Debian packages, wheels)."""

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
