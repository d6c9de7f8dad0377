"""The import contracts of ``[tool.importlinter]`` (root pyproject.toml) hold, a contract
that real imports cross is reported broken (so a kept contract means something), and no
production package depends on the test support package."""

import tomllib
from pathlib import Path
from typing import Any

import pytest
from importlinter.api import read_configuration
from importlinter.application.use_cases import lint_imports

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
CONTRACTS = {
    "services-independent",
    "libraries-below-services",
    "libraries-below-cli",
    "library-layers",
    "production-without-test-support",
}
CROSSED = """
[importlinter]
root_packages =
    tally.gateway
    tally.contracts
    tally.semantic
    tally.infra

[importlinter:contract:gateway-without-contracts]
name = The gateway never imports the contracts library (it does)
type = forbidden
source_modules = tally.gateway
forbidden_modules = tally.contracts

[importlinter:contract:infra-above-contracts]
name = Infra above contracts (contracts import infra, through semantic)
type = layers
layers =
    tally.infra
    tally.contracts
"""


def test_every_contract_is_configured_and_kept() -> None:
    """Services independent, libraries below services and the CLI, the library layers and
    no production import of ``tally.testing``: all configured, all kept."""
    configured = read_configuration(str(PYPROJECT))["contracts_options"]
    assert {contract["id"] for contract in configured} == CONTRACTS
    assert lint_imports(str(PYPROJECT), cache_dir=None, no_logo=True)


@pytest.mark.parametrize("contract", ["gateway-without-contracts", "infra-above-contracts"])
def test_a_contract_real_imports_cross_is_broken(tmp_path: Path, contract: str) -> None:
    """The gateway imports the contracts library, and contracts import infra (through
    semantic): a contract forbidding either fails the run."""
    config = tmp_path / ".importlinter"
    config.write_text(CROSSED)
    assert not lint_imports(
        str(config), cache_dir=None, no_logo=True, limit_to_contracts=(contract,)
    )


def test_no_image_installs_the_test_support_package() -> None:
    """Images install one member and its dependencies (``uv sync --no-dev --package``): no
    service or library reaches tally-testing (or import-linter) through its dependencies in
    uv.lock; only the workspace's dev group names them."""
    lock = tomllib.loads((PYPROJECT.parent / "uv.lock").read_text())
    packages = {package["name"]: package for package in lock["package"]}
    members = [name for name in packages if name.startswith("tally-")]
    production = set(members) - {"tally-testing", "tally-workspace"}
    for member in production:
        reached = _dependencies(packages, member)
        assert not reached & {"tally-testing", "import-linter"}, member
    dev = {
        dependency["name"] for dependency in packages["tally-workspace"]["dev-dependencies"]["dev"]
    }
    assert {"tally-testing", "import-linter"} <= dev


def _dependencies(packages: dict[str, Any], name: str) -> set[str]:
    """Every package ``name`` needs at run time, however indirectly."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        for dependency in packages[todo.pop()].get("dependencies", []):
            if dependency["name"] not in seen:
                seen.add(dependency["name"])
                todo.append(dependency["name"])
    return seen
