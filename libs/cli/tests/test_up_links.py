"""``tally up`` gives the gateway and the dashboard one DASHBOARD_LINK_SECRET and the
dashboard's address when the operator set none, so /dashboard links work out of the box."""

import pytest
from rich.console import Console

from tally.cli.config import CliSettings
from tally.cli.up import Child, Stack
from tally.contracts.dashboard_link import MIN_SECRET_LENGTH
from tally.infra.settings import CommonSettings


def _stack() -> Stack:
    stack = Stack(settings=CliSettings(), console=Console())
    stack.common = CommonSettings()
    stack.children = [Child("dashboard", 8123), Child("gateway", 9100), Child("alerts", 9101)]
    return stack


def test_a_generated_secret_and_the_dashboards_address_reach_both(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DASHBOARD_LINK_SECRET", raising=False)
    monkeypatch.delenv("DASHBOARD_PUBLIC_URL", raising=False)
    stack = _stack()
    gateway = stack.environment(stack.children[1])
    dashboard = stack.environment(stack.children[0])
    alerts = stack.environment(stack.children[2])

    secret = gateway["DASHBOARD_LINK_SECRET"]
    assert len(secret) >= MIN_SECRET_LENGTH
    assert dashboard["DASHBOARD_LINK_SECRET"] == secret
    assert gateway["DASHBOARD_PUBLIC_URL"] == "http://127.0.0.1:8123"
    assert "DASHBOARD_LINK_SECRET" not in alerts
    assert _stack().link_secret != secret


def test_the_operators_settings_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHBOARD_LINK_SECRET", "o" * 40)
    monkeypatch.setenv("DASHBOARD_PUBLIC_URL", "https://tally.example.org")
    stack = _stack()

    gateway = stack.environment(stack.children[1])

    assert gateway["DASHBOARD_LINK_SECRET"] == "o" * 40
    assert gateway["DASHBOARD_PUBLIC_URL"] == "https://tally.example.org"
