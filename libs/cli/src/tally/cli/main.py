"""The ``tally`` command: run the stack, migrate, import, and ask questions from a terminal."""

import asyncio
import contextlib
import json
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from tally.cli.client import Asked, Asker, Conversation
from tally.cli.config import CliSettings, StackState, resolve
from tally.contracts.access import Identity
from tally.contracts.render import render_answer
from tally.infra.errors import TallyError, UserFacingError
from tally.infra.telemetry import setup_tracing

app = typer.Typer(
    help="Tally: ask Telegram analytics questions, get exact numbers.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
console = Console()
T = TypeVar("T")
DEFAULT_SAMPLE = Path("data/videos.json.gz")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine``; a TallyError becomes its message and exit code 2, not a traceback."""
    try:
        return asyncio.run(coroutine)
    except UserFacingError as error:
        console.print(f"[red]{error.message}[/]")
        raise typer.Exit(2) from None
    except TallyError as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(2) from None


@app.command()
def up(
    no_sample_data: Annotated[
        bool,
        typer.Option("--no-sample-data", help="Do not import the sample data (production)."),
    ] = False,
    sample: Annotated[
        Path, typer.Option(help="Sample file imported into an empty database.")
    ] = DEFAULT_SAMPLE,
) -> None:
    """Start NATS, PostgreSQL and every service; stop it all on Ctrl-C or SIGTERM.

    NATS and PostgreSQL are embedded (kept under `.tally/`) when NATS_URL or
    DATABASE_URL is unset. The sample data is imported into an empty database.
    """
    from tally.cli.up import run_stack

    settings = CliSettings()
    chosen = None if no_sample_data else sample
    if chosen and not chosen.exists():
        console.print(f"[yellow]Sample file {chosen} not found; starting without it.[/]")
        chosen = None
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how `tally up` is stopped
        _run(run_stack(settings, sample=chosen, console=console))


migrate_app = typer.Typer(
    help="The database's migrations (Alembic): apply, undo, show; or write them as SQL.",
    rich_markup_mode="markdown",
)
app.add_typer(migrate_app, name="migrate")
SqlOption = Annotated[
    bool,
    typer.Option(
        "--sql", help="Print the SQL instead of running it (offline: no database is touched)."
    ),
]


def _database_url() -> str:
    settings = CliSettings()
    return str(settings.database_url or _resolve().database_url)


def _alembic(action: Callable[[], None]) -> None:
    """Run an Alembic ``action``; its own errors (an unknown revision, say) become a red
    line and exit code 2."""
    from alembic.util import CommandError

    try:
        action()
    except CommandError as error:
        console.print(f"[red]{error}[/]", highlight=False)
        raise typer.Exit(2) from None


@migrate_app.callback(invoke_without_command=True)
def migrate(
    context: typer.Context,
    sql: SqlOption = False,
    timescaledb: Annotated[
        bool, typer.Option(help="With --sql: make `messages` a TimescaleDB hypertable.")
    ] = False,
) -> None:
    """Apply every migration to DATABASE_URL (what a deployment runs first).

    `--sql` prints the SQL of every migration for a DBA to run instead, for plain PostgreSQL
    unless `--timescaledb`; `tally migrate upgrade FROM:head --sql` prints part of it.
    """
    if context.invoked_subcommand is None:
        _upgrade("head", sql=sql, timescaledb=timescaledb)


@migrate_app.command("upgrade")
def upgrade_command(
    revision: Annotated[str, typer.Argument(help="A revision, `head`, or `+1`.")] = "head",
    sql: SqlOption = False,
) -> None:
    """Apply the migrations up to REVISION (with --sql, REVISION may be `FROM:TO`)."""
    _upgrade(revision, sql=sql, timescaledb=False)


def _upgrade(revision: str, *, sql: bool, timescaledb: bool) -> None:
    from tally.infra.db import revisions
    from tally.infra.db.session import ensure_database
    from tally.infra.settings import redact

    if sql:
        _alembic(lambda: revisions.upgrade(None, revision, sql=True, timescaledb=timescaledb))
        return
    url = _database_url()
    _run(ensure_database(url))
    _alembic(lambda: revisions.upgrade(url, revision))
    console.print(f"Migrated {redact(url)} to {revision}.")


@migrate_app.command("downgrade")
def downgrade_command(
    revision: Annotated[
        str,
        typer.Argument(
            help="The revision to go back to, `base` (undo them all), or `-1` (after `--`)."
        ),
    ],
    sql: SqlOption = False,
) -> None:
    """Undo the migrations after REVISION. Data in what they created is lost.

    With --sql, give `FROM:TO` (e.g. `0009:0008`): offline no database says where it stands.
    """
    from tally.infra.db import revisions
    from tally.infra.settings import redact

    if sql:
        _alembic(lambda: revisions.downgrade(None, revision, sql=True))
        return
    url = _database_url()
    _alembic(lambda: revisions.downgrade(url, revision))
    console.print(f"Downgraded {redact(url)} to {revision}.")


@migrate_app.command("current")
def current_command(
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Print the revision DATABASE_URL is at (nothing when it was never migrated)."""
    from tally.infra.db import revisions

    url = _database_url()
    _alembic(lambda: revisions.current(url, verbose=verbose))


@migrate_app.command("history")
def history_command(
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Print every migration, newest first (no database needed)."""
    from tally.infra.db import revisions

    _alembic(lambda: revisions.history(verbose=verbose))


@app.command("declare-streams")
def declare_streams_command() -> None:
    """Create the deployment's JetStream streams and shared buckets when missing.

    What a deployment runs first, as the `admin` NATS user: under authorization the services
    may only read that they exist.
    """
    import nats.errors

    from tally.infra.settings import redact
    from tally.runtime.broker import declare_streams

    common = _resolve()
    try:
        _run(declare_streams(common))
    except (nats.errors.Error, OSError, TimeoutError) as error:
        console.print(f"[red]NATS at {redact(common.nats_url)} did not declare them: {error!r}[/]")
        raise typer.Exit(2) from None
    console.print(f"Streams and buckets of {common.subject_prefix} declared.")


@app.command("nats-auth")
def nats_auth() -> None:
    """Print nats-server's `authorization` block for SUBJECT_PREFIX: one user per service,
    `cli` and `admin`, each with its permissions, the passwords read from the server's
    environment (`NATS_PASSWORD_<USER>`). deploy/nats/auth.conf is this for `tally`.
    """
    from tally.contracts.access import IDENTITIES, permissions
    from tally.contracts.subjects import Subjects
    from tally.runtime.nats_config import authorization, password_variable

    table = permissions(Subjects(CliSettings().subject_prefix))
    print(authorization(table, {i: password_variable(i) for i in IDENTITIES}), end="")


@app.command("import-videos")
def import_videos_command(path: Path) -> None:
    """Import a seed-000-shaped JSON file (`.json` or `.json.gz`) through ingest."""
    from tally.cli.importer import import_videos

    if not path.exists():
        console.print(f"[red]{path} does not exist.[/]")
        raise typer.Exit(2)
    common = _resolve()
    report = _run(import_videos(path, common, console=console))
    console.print(f"Stored {report.videos:,} videos and {report.snapshots:,} snapshots.")
    for problem in report.skipped:
        console.print(f"[yellow]skipped {problem}[/]")


@app.command("import-chat")
def import_chat_command(
    path: Annotated[Path, typer.Argument(help="result.json, or the export's folder.")],
    with_text: Annotated[
        bool,
        typer.Option(
            help="Send message text when no settings are stored for the chat (else left out; "
            "ingest keeps text only for a chat whose settings store it)."
        ),
    ] = False,
) -> None:
    """Import a group's history from a Telegram Desktop export (Export chat history, JSON).

    Goes through CHAT_EVENTS and ingest like live capture; importing the same file again
    changes nothing. Text travels only as the chat's settings allow (see --with-text).
    """
    from tally.cli.chat_import import import_chat, summary

    report = _run(import_chat(path, _resolve(), with_text=with_text, console=console))
    for line in summary(report):
        console.print(line, highlight=False, markup=False)


@app.command("seed-chats")
def seed_chats_command(
    chats: Annotated[int, typer.Option(min=1, help="How many chats.")] = 5,
    users: Annotated[int, typer.Option(min=2, help="How many users across them.")] = 300,
    days: Annotated[int, typer.Option(min=1, help="How many days of history.")] = 120,
    seed: Annotated[int, typer.Option(help="The random seed (same seed, same chats).")] = 1,
    end: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="The last day generated (default: today)."),
    ] = None,
) -> None:
    """Generate realistic group chats and publish them as chat events (ingest stores them)."""
    from tally.cli.chats import seed_chats

    last = end.date() if end else datetime.now(UTC).date()
    seeded = _run(seed_chats(_resolve(), end=last, chats=chats, users=users, days=days, seed=seed))
    console.print(
        f"Published {seeded.generated:,} chat events ({seeded.stored:,} new to the stream) "
        f"for {chats} chats, {days} days up to {last}."
    )


@app.command()
def replay(
    stream: Annotated[str, typer.Option(help="The stream to replay (CHAT_EVENTS).")],
    start: Annotated[
        str | None,
        typer.Option("--from", help="A stream sequence or an ISO time; default: the start."),
    ] = None,
    rebuild: Annotated[
        bool, typer.Option(help="Empty the chat tables and rollups first, then read it all.")
    ] = False,
    connections: Annotated[
        int,
        typer.Option(
            min=1,
            max=8,
            help="Transactions each fetch is split into, by chat, and written at once "
            "(as ingest's CHAT_WRITE_CONNECTIONS).",
        ),
    ] = 2,
) -> None:
    """Rebuild the chat tables from CHAT_EVENTS, through ingest's own write code.

    Without --rebuild, events already stored are skipped (messages and member events by
    their keys) and later state wins, so replaying a range that is stored changes nothing.
    """
    from tally.cli.chats import replay as run_replay

    report = _run(
        run_replay(
            _resolve(),
            stream=stream,
            start=start,
            rebuild=rebuild,
            console=console,
            connections=connections,
        )
    )
    console.print(
        f"Replayed {report.read:,} events up to sequence {report.last_sequence:,}: "
        f"{report.messages:,} new messages, {report.member_events:,} new member events, "
        f"{report.invalid:,} invalid and {report.refused:,} refused skipped."
    )


dlq_app = typer.Typer(
    help="Dead letters (DEAD_LETTERS): list, show, replay, purge; no consumer is touched.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)
app.add_typer(dlq_app, name="dlq")
ServiceOption = Annotated[
    str | None, typer.Option(help="Only this service's letters (gateway, ingest, ...).")
]


@dlq_app.command("ls")
def dlq_ls(service: ServiceOption = None) -> None:
    """List the dead letters, oldest first: ID (the stream sequence), when, service, the
    subject it came on, why."""
    from tally.cli.dead_letters import connect, letters
    from tally.contracts.subjects import Subjects

    async def listed() -> list[Any]:
        common = _resolve()
        async with connect(common) as connection:
            found = letters(
                connection.jetstream(), Subjects(common.subject_prefix), service=service
            )
            return [stored async for stored in found]

    table = Table("ID", "failed at (UTC)", "service", "subject", "reason")
    for stored in _run(listed()):
        letter = stored.letter
        if letter is None:
            table.add_row(str(stored.seq), "", "", "", stored.problem)
        else:
            when = letter.failed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
            table.add_row(str(stored.seq), when, letter.service, letter.subject, letter.reason)
    console.print(table if table.row_count else "No dead letters.")


@dlq_app.command("show")
def dlq_show(letter_id: Annotated[int, typer.Argument(metavar="ID", min=1)]) -> None:
    """Print one dead letter as JSON, whole: payload and headers as they came."""
    from tally.cli.dead_letters import connect, letter
    from tally.contracts.subjects import Subjects

    async def shown() -> Any:
        common = _resolve()
        async with connect(common) as connection:
            return await letter(connection.jetstream(), Subjects(common.subject_prefix), letter_id)

    stored = _run(shown())
    if stored.letter is None:
        console.print(f"[red]Dead letter {letter_id} is {stored.problem}.[/]")
        raise typer.Exit(1)
    print(
        json.dumps(
            {"id": stored.seq, **stored.letter.model_dump(mode="json")},
            indent=2,
            ensure_ascii=False,
        )
    )


@dlq_app.command("replay")
def dlq_replay(
    letter_ids: Annotated[list[int], typer.Argument(metavar="ID...", min=1)],
    keep: Annotated[bool, typer.Option(help="Keep the letters once replayed.")] = False,
    new_msg_id: Annotated[
        bool,
        typer.Option(help="A fresh Nats-Msg-Id, for a letter JetStream would drop as a duplicate."),
    ] = False,
) -> None:
    """Publish each letter's payload back to its subject, with its headers (`traceparent`
    too), then delete the letter (unless --keep). Exit 1 when any was dropped as a duplicate.
    """
    from tally.cli.dead_letters import connect, replay
    from tally.contracts.subjects import Subjects

    async def replayed() -> list[Any]:
        common = _resolve()
        subjects = Subjects(common.subject_prefix)
        async with connect(common) as connection:
            return [
                await replay(connection, subjects, seq, keep=keep, new_msg_id=new_msg_id)
                for seq in letter_ids
            ]

    outcomes = _run(replayed())
    for done in outcomes:
        if done.outcome == "stored":
            console.print(f"{done.letter_seq}: stored again in {done.stream} as {done.seq}")
        elif done.outcome == "published":
            console.print(f"{done.letter_seq}: published (no stream keeps its subject)")
        else:
            console.print(
                f"[yellow]{done.letter_seq}: dropped by JetStream as a duplicate of its "
                "Nats-Msg-Id; kept. Replay it with --new-msg-id.[/]"
            )
    if any(done.outcome == "duplicate" for done in outcomes):
        raise typer.Exit(1)


@dlq_app.command("purge")
def dlq_purge(
    service: ServiceOption = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Delete every dead letter (of --service only); they cannot be replayed afterwards."""
    from tally.cli.dead_letters import connect, purge
    from tally.contracts.subjects import Subjects

    whose = f"{service}'s" if service else "all"
    if not yes and not typer.confirm(f"Delete {whose} dead letters for good?"):
        raise typer.Exit(1)

    async def purged() -> int:
        common = _resolve()
        async with connect(common) as connection:
            subjects = Subjects(common.subject_prefix)
            return await purge(connection.jetstream(), subjects, service=service)

    console.print(f"Purged {_run(purged()):,} dead letters.")


@app.command()
def retention(
    preview: Annotated[bool, typer.Option("--preview", help="Show what would go.")] = False,
    apply: Annotated[bool, typer.Option("--apply", help="Delete it.")] = False,
) -> None:
    """Delete each chat's raw rows older than its retention_days.

    Raw messages, member events and reactions go; `--preview` lists them,
    `--apply` deletes them and purges the same events from the CHAT_EVENTS stream
    (ingest also does this every RETENTION_INTERVAL_S). The rollups (chat_daily,
    user_chat_daily, chat_hourly) are kept, so the dashboard still counts the days
    whose raw rows are gone.
    """
    from tally.cli.chats import retention as run_retention
    from tally.cli.chats import retention_table

    if preview == apply:
        console.print("[red]Say --preview or --apply.[/]")
        raise typer.Exit(2)
    counts = _run(run_retention(_resolve(), apply=apply, now=datetime.now(UTC)))
    if not counts:
        console.print("No chat has retention_days set: nothing to delete.")
        return
    console.print(retention_table(counts, applied=apply))


@app.command()
def health() -> None:
    """Check NATS, PostgreSQL and every service of the running stack.

    Exits 0 when everything is up, 1 when anything is down, 2 when no stack is found.
    """
    from tally.cli.health import check_all, health_table

    settings = CliSettings()
    common = _resolve("cli")
    state = StackState.load(settings.state_file)
    services = state.services if state else {}
    checks = _run(
        check_all(
            nats_url=common.nats_url,
            database_url=common.database_url,
            prefix=common.subject_prefix,
            services=services,
            nats_auth=common.nats_auth(),
        )
    )
    console.print(health_table(checks))
    if any(check.status == "down" for check in checks):
        raise typer.Exit(1)


@app.command()
def loadtest(
    users: Annotated[int, typer.Option(min=1, help="Simulated Telegram users.")] = 1000,
    groups: Annotated[int, typer.Option(min=0, help="Group chats posting meanwhile.")] = 20,
    duration: Annotated[float, typer.Option(min=1, help="Seconds of load.")] = 30.0,
    model: Annotated[
        str, typer.Option(help="open: questions at --rate; closed: ask, wait, think 1 s.")
    ] = "open",
    rate: Annotated[float, typer.Option(min=0.1, help="Questions/s (open model).")] = 200.0,
    think: Annotated[
        float, typer.Option(min=0, help="Seconds between answer and next question (closed model).")
    ] = 1.0,
    group_rate: Annotated[float, typer.Option(min=0.1, help="Messages/s per group.")] = 2.0,
    cache: Annotated[bool, typer.Option(help="The executor's answer cache.")] = True,
    replicas: Annotated[
        int, typer.Option(min=1, help="Replicas of nl2sql, executor and ingest.")
    ] = 1,
    compare_replicas: Annotated[
        bool, typer.Option(help="Run with 1 and then 2 replicas; print the throughput ratio.")
    ] = False,
    gateways: Annotated[
        int,
        typer.Option(
            min=1, help="Gateways; more than 1: webhook mode behind a round-robin balancer."
        ),
    ] = 1,
    reask_after: Annotated[
        float | None,
        typer.Option(min=0, help="The gateways' REASK_AFTER_S (s; default theirs, 2)."),
    ] = None,
    start: Annotated[
        bool, typer.Option(help="Start the stack; --no-start uses a running one.")
    ] = True,
    bot_api_port: Annotated[
        int, typer.Option(help="With --no-start: the fake Bot API's port (its gateway polls it).")
    ] = 8081,
    drain: Annotated[float, typer.Option(min=0, help="Seconds to wait for late answers.")] = 15.0,
    report: Annotated[Path | None, typer.Option(help="Also write the report as JSON here.")] = None,
    sample: Annotated[Path, typer.Option(help="The videos imported first.")] = DEFAULT_SAMPLE,
) -> None:
    """Load the whole stack through the gateway with simulated users and groups.

    Reports answers/s, latency from update to reply (p50/p95/p99/max), lost answers,
    ingest lag and CPU per process. Exits 1 when any question went unanswered.
    """
    from tally.cli.load_report import print_report
    from tally.cli.loadtest import LoadOptions, run_loadtest

    if model not in ("open", "closed"):
        console.print("[red]--model is open or closed.[/]")
        raise typer.Exit(2)
    options = LoadOptions(
        users=users,
        groups=groups,
        duration_s=duration,
        model="open" if model == "open" else "closed",
        rate=rate,
        think_s=think,
        group_rate=group_rate,
        cache=cache,
        replicas=replicas,
        compare_replicas=compare_replicas,
        gateways=gateways,
        reask_after_s=reask_after,
        start=start,
        bot_api_port=bot_api_port,
        drain_s=drain,
        sample=sample,
    )
    import uvloop

    uvloop.install()
    result = _run(run_loadtest(options, console))
    print_report(result, console if console.is_terminal else Console(width=150))
    if report:
        report.write_text(result.model_dump_json(indent=2))
    if any(phase.unanswered for phase in result.phases):
        raise typer.Exit(1)


def _resolve(identity: Identity = "admin") -> Any:
    """The stack's settings, logged in to NATS as ``identity`` (see config.resolve)."""
    try:
        return resolve(CliSettings(), identity)
    except UserFacingError as error:
        console.print(f"[red]{error.message}[/]")
        raise typer.Exit(2) from None


async def _ask_once(text: str) -> Asked:
    async with Asker(_resolve("cli")) as asker:
        return await asker.ask(text)


def _as_json(asked: Asked) -> str:
    answer = asked.answer
    return json.dumps(
        {
            "question": answer.question.text,
            "answer": answer.value if answer.outcome == "answered" else None,
            "rows": [row.model_dump(include={"label", "value"}) for row in answer.rows],
            "outcome": answer.outcome,
            "interpretation": answer.interpretation,
            "sql": answer.sql,
            "params": answer.params,
            "reason": answer.reason,
            "examples": list(answer.examples),
            "choices": [
                {"label": choice.label, "plan": choice.plan.model_dump(mode="json")}
                for choice in answer.choices
            ],
            "trace_id": asked.trace_id,
            "elapsed_ms": round(asked.elapsed_ms, 3),
        },
        ensure_ascii=False,
    )


PICK_HINT = "To pick one, ask in `tally chat` and reply with its number, or rephrase."


@app.command()
def ask(
    question: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Ask one question of the running stack, print the answer, exit.

    A question with several readings prints them numbered: pick one in `tally chat`
    (reply with its number) or ask again more precisely. With `--json` they are the
    "choices" list, each with a "label" and a "plan".

    Exit status: 0 for an answer, a refusal or readings to pick from ("outcome" tells
    which), 1 when answering failed, 2 when the stack cannot be reached or does not answer.
    """
    _setup_tracing()
    asked = _run(_ask_once(question))
    if as_json:
        print(_as_json(asked))
    else:
        console.print(render_answer(asked.answer))
        if asked.answer.choices:
            console.print(PICK_HINT, style="dim")
    if asked.answer.outcome == "failed":
        raise typer.Exit(1)


def _setup_tracing() -> None:
    settings = CliSettings()
    setup_tracing(
        "cli",
        otlp_endpoint=settings.otel_exporter_otlp_endpoint,
        otlp_traces_endpoint=settings.otel_exporter_otlp_traces_endpoint,
    )


async def _chat() -> None:
    async with Asker(_resolve("cli")) as asker:
        conversation = Conversation(asker)
        while True:
            try:
                text = (await asyncio.to_thread(console.input, "`you>` ")).strip()
            except (EOFError, KeyboardInterrupt):
                return
            if text.lower() in {"exit", "quit", "выход"}:
                return
            if text:
                answer = (await conversation.say(text)).answer
                console.print(f"`tally>` {render_answer(answer)}")
                if answer.choices:
                    console.print("Reply with a number to pick one.", style="dim")


@app.command()
def chat() -> None:
    """A terminal chat with Tally, over the bus exactly as the Telegram gateway talks.

    A question with several readings is answered with them numbered; reply with a number to
    get that reading's answer, or with anything else to ask a new question.
    """
    _setup_tracing()
    console.print("Ask a question (English or Russian); `exit` or Ctrl-D to leave.")
    _run(_chat())


if __name__ == "__main__":
    app()
