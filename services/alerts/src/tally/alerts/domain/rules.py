"""Alert rules as written in the rules file (YAML) or compiled from an admin's /watch.

The vocabulary is Prometheus' alerting rules
(https://prometheus.io/docs/prometheus/latest/configuration/alerting_rules/): a rule has a
name (``alertname``), a condition over a window, ``for`` (how long the condition must hold
before the alert fires; until then it is pending), ``keep_firing_for`` (how long it keeps
firing after the condition clears), a severity and labels. Routing, grouping and inhibition
follow Alertmanager's configuration
(https://prometheus.io/docs/alerting/latest/configuration/).

A rule reads one of two sources:

- :class:`MetricSource`: a metric the alerts service observes from the bus (answers,
  JetStream consumers and streams, a database probe), reduced over ``window_s``.
- :class:`MeasureSource`: a one-number query plan from the semantic layer, evaluated on
  PostgreSQL over ``[now - window_s, now)``, optionally against the same window
  ``offset_s`` earlier.
"""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from tally.contracts.alerting import Severity
from tally.semantic.plan import QueryPlan

ComparisonOp = Literal[">", ">=", "<", "<="]
Reducer = Literal["last", "avg", "max", "min", "increase", "rate"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Condition(_Model):
    """``sample <op> threshold``; the threshold is in the source's unit."""

    op: ComparisonOp
    threshold: float


class MetricSource(_Model):
    """A bus-observed metric, reduced over the last ``window_s`` seconds.

    ``metric`` names one of the alerts service's observed series; ``matchers`` (Alertmanager
    syntax, e.g. ``consumer=ingest``) select label values; ``reduce`` folds the window's
    samples (``increase`` is last minus first, counter resets read as in PromQL; ``rate`` is
    increase per second). A window holding fewer than ``min_samples`` samples has no value (so
    "20 % of questions failed" needs, say, 10 questions to be judged).
    """

    kind: Literal["metric"] = "metric"
    metric: str
    reduce: Reducer = "last"
    window_s: float = Field(default=300.0, gt=0)
    matchers: tuple[str, ...] = ()
    min_samples: int = Field(default=0, ge=0)


class MeasureSource(_Model):
    """A measure from the semantic layer over ``[now - window_s, now)`` (UTC).

    ``plan`` is a one-number plan (no grouping); its time range is replaced at each
    evaluation. ``compare``: ``value`` is the measure itself; ``ratio_to_offset`` is the
    measure divided by the same measure over the window ``offset_s`` seconds earlier (604800:
    the same hour last week), None when that is 0. ``chat_id`` scopes chat datasets.
    """

    kind: Literal["measure"] = "measure"
    plan: QueryPlan
    window_s: float = Field(gt=0)
    compare: Literal["value", "ratio_to_offset"] = "value"
    offset_s: float | None = Field(default=None, gt=0)
    chat_id: int | None = None


Source = Annotated[MetricSource | MeasureSource, Field(discriminator="kind")]


class Rule(_Model):
    """One alerting rule. ``summary`` may use ``{value}`` (the sample, formatted)."""

    name: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
    source: Source
    condition: Condition
    for_s: float = Field(default=0.0, ge=0)
    keep_firing_for_s: float = Field(default=0.0, ge=0)
    severity: Severity = "warning"
    labels: dict[str, str] = Field(default_factory=dict)
    summary: str = Field(max_length=500)
