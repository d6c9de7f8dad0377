"""docs/metrics.md names every Prometheus metric Tally's code defines (issue 14 found the
gateway's missing)."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFINED = re.compile(r"\b(Counter|Gauge|Histogram|Summary)\(\s*\"(tally_\w+)\"")


def _defined() -> dict[str, str]:
    found: dict[str, str] = {}
    for source in [*ROOT.glob("libs/*/src/**/*.py"), *ROOT.glob("services/*/src/**/*.py")]:
        for kind, name in DEFINED.findall(source.read_text()):
            found[name] = kind
    return found


def test_the_code_defines_metrics_this_test_can_see() -> None:
    assert {"tally_gateway_messages", "tally_questions", "tally_alerts_firing"} <= set(_defined())


def test_every_metric_is_in_docs_metrics_md() -> None:
    documented = set(re.findall(r"`(tally_\w+)", (ROOT / "docs/metrics.md").read_text()))
    missing = [
        name
        for name, kind in sorted(_defined().items())
        if name not in documented
        and f"{name}_total" not in documented
        and not any(doc.startswith(f"{name}_") for doc in documented)
    ]
    assert not missing, f"not in docs/metrics.md: {missing}"
