"""The engine in memory (no store): measure rules through an injected reader, metric rules
over samples, reloads, and the admins' commands with their sentences."""

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import create_async_engine

from tally.alerts.commands import handle, human_duration
from tally.alerts.domain.rules import Condition, MeasureSource, MetricSource, Rule
from tally.alerts.domain.rules_file import Route, RulesFile
from tally.alerts.engine import AlertEngine
from tally.contracts.alerting import WATCH_IN_PRIVATE, AlertCommand
from tally.semantic.plan import QueryPlan

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
ROUTE = Route(group_wait_s=0, group_interval_s=10, repeat_interval_s=3600)
DB_DOWN = Rule(
    name="DatabaseDown",
    source=MetricSource(metric="database_up", window_s=60),
    condition=Condition(op="<", threshold=1),
    severity="critical",
    summary="database down",
)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def engine_with(*rules: Rule, **kwargs: object) -> AlertEngine:
    return AlertEngine(RulesFile(route=ROUTE, rules=rules), **kwargs)  # type: ignore[arg-type]


async def test_measure_rule_uses_the_injected_reader() -> None:
    """A measure rule is evaluated through the reader, with the evaluation time."""
    plan = QueryPlan.model_validate(
        {"dataset": "videos", "measure": {"aggregate": "count"}, "interpretation": "videos"}
    )
    asked: list[datetime] = []

    async def reader(source: MeasureSource, now: datetime) -> float | None:
        asked.append(now)
        return 3.0

    rule = Rule(
        name="FewVideos",
        source=MeasureSource(plan=plan, window_s=3600),
        condition=Condition(op="<", threshold=5),
        summary="only {value} videos",
    )
    [notification] = await engine_with(rule, measure_reader=reader).evaluate(at(0))
    assert asked == [at(0)]
    assert notification.alerts[0].summary == "only 3 videos"
    assert await engine_with(rule).evaluate(at(0)) == []  # the default reader has no data


async def test_metric_rule_fires_and_resolves_with_notifications() -> None:
    """database_up 0 fires DatabaseDown (sent at once: group_wait 0); 1 resolves it."""
    engine = engine_with(DB_DOWN)
    engine.samples.record("database_up", 0, at(0).timestamp())
    [fired] = await engine.evaluate(at(0))
    assert fired.status == "firing" and fired.alerts[0].name == "DatabaseDown"
    assert engine.firing_counts() == {("DatabaseDown", "critical"): 1}
    engine.samples.record("database_up", 1, at(70).timestamp())
    [done] = await engine.evaluate(at(70))
    assert done.status == "resolved" and done.alerts[0].ends_at == at(70)


async def test_reload_resolves_alerts_of_removed_rules() -> None:
    """A rule gone from a reloaded file resolves its alerts at the next evaluation."""
    engine = engine_with(DB_DOWN)
    engine.samples.record("database_up", 0, at(0).timestamp())
    await engine.evaluate(at(0))
    engine.configure(RulesFile(route=ROUTE), at(5))
    [done] = await engine.evaluate(at(10))
    assert done.status == "resolved"


async def test_commands_answer_in_sentences() -> None:
    """alerts, silence (by group), silences, ack, unsilence, mute and watch, as an admin
    reads them."""
    engine = engine_with(DB_DOWN)
    engine.samples.record("database_up", 0, at(0).timestamp())
    [fired] = await engine.evaluate(at(0))
    group = fired.group_id

    listing = await handle(engine, AlertCommand(action="alerts", actor_id=7), at(1))
    assert listing.message == "1 alert firing, 0 pending." and len(listing.alerts) == 1

    ack = await handle(engine, AlertCommand(action="ack", actor_id=7, target=group), at(2))
    assert ack.ok and ack.message.startswith("Acknowledged 1 alert")
    assert ack.alerts[0].acknowledged_by == 7

    command = AlertCommand(action="silence", actor_id=7, target=group, duration_s=3600)
    silenced = await handle(engine, command, at(3))
    [silence] = silenced.silences
    assert silenced.message == f"Silenced 1 alert for 1 h (silence {silence.id[:4]}…)."
    assert silence.matchers == ('alertname="DatabaseDown"',)
    listed = await handle(engine, AlertCommand(action="silences", actor_id=7), at(4))
    assert listed.message == "1 active silence." and listed.silences == (silence,)
    assert engine.alerts(at(4))[0].silenced_by == (silence.id,)

    ended = await handle(
        engine, AlertCommand(action="unsilence", actor_id=7, target=silence.id), at(5)
    )
    assert ended.ok and ended.message == f"Silence {silence.id[:4]}… ended."
    again = await handle(
        engine, AlertCommand(action="unsilence", actor_id=7, target=silence.id), at(6)
    )
    assert not again.ok

    muted = await handle(engine, AlertCommand(action="mute", actor_id=7, target=group), at(7))
    assert muted.message.startswith("Muted 1 alert until they resolve")

    watch = await handle(engine, AlertCommand(action="watch", actor_id=7, text="x"), at(8))
    assert (watch.ok, watch.message) == (False, "Data alerts need the database.")


async def test_command_refusals() -> None:
    """Unknown targets and bad matchers get a sentence, not an exception."""
    engine = engine_with(DB_DOWN)
    unknown = await handle(engine, AlertCommand(action="ack", actor_id=7, target="f" * 16), at(0))
    assert not unknown.ok and unknown.message == "No firing alert or group ffff…."
    bad = AlertCommand(action="silence", actor_id=7, matchers=("severity",))
    assert "is not a matcher" in (await handle(engine, bad, at(0))).message
    by_matchers = AlertCommand(action="silence", actor_id=7, matchers=('severity=~"warn.*"',))
    reply = await handle(engine, by_matchers, at(0))
    assert reply.message.startswith("Silenced 0 alerts for 1 h")


def test_human_durations() -> None:
    """Durations read as an admin says them."""
    assert [human_duration(s) for s in (45, 1800, 3600, 5400, 172800)] == [
        "45 s",
        "30 min",
        "1 h",
        "1 h 30 min",
        "2 d",
    ]


async def test_a_watch_from_a_private_chat_is_refused() -> None:
    """A ``watch`` whose chat is a private one (a positive Telegram id) is refused with a
    sentence before anything is compiled or read, and no watch is added."""
    engine = engine_with()
    command = AlertCommand(action="watch", actor_id=7, chat_id=7, text="messages drop by half")
    never_used = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:1/nowhere")

    reply = await handle(engine, command, at(1), measures=never_used)

    assert (reply.ok, reply.message) == (False, WATCH_IN_PRIVATE)
    assert engine.watches == {}
