"""The failure-rate rule: fires once, resolves once, ignores thin traffic."""

from tally.alerts.domain.failure_rate import FailureRateRule, FailureRateWindow

RULE = FailureRateRule(window_s=60, threshold=0.5, min_events=4)


def test_fires_once_when_rate_crosses_threshold() -> None:
    """Two failures in four questions (50 %) fire; more failures do not fire again."""
    window = FailureRateWindow(RULE)
    for n, failed in enumerate([False, False, True, True]):
        window.observe(n, failed=failed)
    assert window.evaluate(4) == "firing"
    window.observe(5, failed=True)
    assert window.evaluate(5) is None


def test_resolves_when_failures_leave_the_window() -> None:
    """Once the failures are older than the window, the alert resolves."""
    window = FailureRateWindow(RULE)
    for n in range(4):
        window.observe(n, failed=True)
    assert window.evaluate(4) == "firing"
    assert window.evaluate(100) == "resolved"


def test_too_few_questions_never_fire() -> None:
    """Three failures of three questions is below min_events: no alert."""
    window = FailureRateWindow(RULE)
    for n in range(3):
        window.observe(n, failed=True)
    assert window.evaluate(3) is None


def test_refusals_are_not_failures() -> None:
    """Observed successes keep the rate under the threshold."""
    window = FailureRateWindow(RULE)
    for n in range(10):
        window.observe(n, failed=n % 4 == 0)
    assert window.evaluate(10) is None
    assert window.rate(10) == (0.3, 10)
