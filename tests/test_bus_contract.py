"""The bus's permission table (tally.contracts.access) against the code, without a server: every
subject a service subscribes to, consumes or names is granted to it, nothing more is, and the
properties issue 13 asks for hold (who may publish answers, settings, alerts, cache entries)."""

import ast
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, get_args

import pytest
from faststream.nats import NatsBroker

from tally.alerts.app import create_broker_for as alerts_broker
from tally.alerts.config import AlertsSettings
from tally.contracts.access import (
    IDENTITIES,
    INBOX,
    SERVICES,
    Identity,
    allowed,
    consume,
    covers,
    permissions,
)
from tally.contracts.chat_events import KINDS
from tally.contracts.publications import publications
from tally.contracts.subjects import Channel, Subjects
from tally.executor.app import create_broker_for as executor_broker
from tally.executor.app import ops_reader
from tally.executor.config import ExecutorSettings
from tally.executor.runner import Reader
from tally.gateway.app import create_broker_for as gateway_broker
from tally.gateway.config import GatewaySettings
from tally.ingest.app import create_broker_for as ingest_broker
from tally.ingest.app import create_database_engine
from tally.ingest.config import IngestSettings
from tally.nl2sql.app import create_broker_for as nl2sql_broker
from tally.nl2sql.config import Nl2sqlSettings
from tally.testing.telegram import DEFAULT_TOKEN

ROOT = Path(__file__).resolve().parent.parent
S = Subjects("tally")
TABLE = permissions(S)
MEMBERS = {name for name in dir(Subjects) if not name.startswith("_")} - {"prefix"}
NOT_SUBJECTS = {"answer_headers", "ingest_consumers"}
"""Members of Subjects that name no subject: headers, and (stream, durable) pairs."""


@pytest.fixture(scope="module")
async def brokers() -> AsyncIterator[dict[Identity, NatsBroker]]:
    """Each service's broker as its app builds it (not started: no server is needed)."""
    ingest = IngestSettings()
    executor = ExecutorSettings()
    built: dict[Identity, NatsBroker] = {
        "gateway": gateway_broker(GatewaySettings(bot_token=DEFAULT_TOKEN), S),
        "nl2sql": nl2sql_broker(Nl2sqlSettings()),
        "executor": executor_broker(executor, Reader(executor), ops=ops_reader(executor)),
        "ingest": ingest_broker(ingest, engine=create_database_engine(ingest)),
        "alerts": alerts_broker(AlertsSettings())[0],
    }
    yield built


def _subscriptions(broker: NatsBroker) -> tuple[set[str], set[tuple[str, str]]]:
    """(subjects of core subscriptions, (stream, durable) of JetStream consumers)."""
    core: set[str] = set()
    durables: set[tuple[str, str]] = set()
    for subscriber in broker.subscribers:
        subject = subscriber.subject.broker_address  # type: ignore[attr-defined]
        stream = getattr(subscriber, "stream", None)
        if stream is None:
            core.add(subject)
        else:
            durables.add((stream.name, subscriber.extra_options["durable"]))  # type: ignore[attr-defined]
    return core, durables


def _granted_durables(identity: Identity) -> set[tuple[str, str]]:
    prefix = "$JS.API.CONSUMER.MSG.NEXT."
    pulls = [grant[len(prefix) :] for grant in TABLE[identity].publish if grant.startswith(prefix)]
    return {(pull.split(".")[0], pull.split(".")[1]) for pull in pulls if "*" not in pull}


def _filters(broker: NatsBroker | None) -> list[str]:
    if broker is None:
        return []
    return [
        subscriber.subject.broker_address  # type: ignore[attr-defined]
        for subscriber in broker.subscribers
        if getattr(subscriber, "stream", None) is not None
    ]


def test_every_subscription_and_consumer_is_granted_and_nothing_more(
    brokers: dict[Identity, NatsBroker],
) -> None:
    """A service may subscribe to the subjects its subscribers listen on (and its inbox), each
    grant covering one of them (the gateway's ``answers.telegram.*.*`` covers its own
    instance's ``answers.telegram.<instance>.*``), and pull from exactly its durable
    consumers, with each consumer's whole API."""
    for identity, broker in brokers.items():
        core, durables = _subscriptions(broker)
        granted = TABLE[identity]
        subscribed = set(granted.subscribe) - {INBOX}
        assert all(allowed(subscribed, subject) for subject in core), identity
        assert all(any(covers(grant, s) for s in core) for grant in subscribed), identity
        assert _granted_durables(identity) == durables, identity
        for stream, durable in durables:
            assert set(consume(stream, durable)) <= set(granted.publish), (identity, durable)
    for identity in ("dashboard", "cli"):
        assert _granted_durables(identity) == set()


WILDCARDS = {"answers_all": "answer", "alerts_all": "alert", "chat_events_all": "chat_event"}
"""Members that are a wildcard over another's subjects: they name each of those."""


def _instances(member: str) -> list[str]:
    """Concrete subjects (or stream and bucket names) that a Subjects member yields."""
    if member in WILDCARDS:
        return _instances(WILDCARDS[member])
    value = getattr(S, member)
    arguments: dict[str, list[tuple[Any, ...]]] = {
        "answer": [(channel, "q1", to) for channel in get_args(Channel) for to in (None, "gw1")],
        "answers_for": [(channel,) for channel in get_args(Channel)],
        "answers_to": [(channel, "gw1") for channel in get_args(Channel)],
        "answers_routed": [(channel,) for channel in get_args(Channel)],
        "alert": [("firing",), ("resolved",)],
        "dead_letter": [(identity,) for identity in SERVICES],
        "import_progress": [("i1",)],
        "chat_event": [(-1001, kind) for kind in KINDS],
        "chat_events_of_kind": [(kind,) for kind in KINDS],
    }
    if callable(value):
        return [value(*given) for given in arguments[member]]
    return list(value) if isinstance(value, list) else [value]


def _referenced(identity: Identity) -> set[str]:
    """The Subjects members a service's source names (``subjects.x``, ``self._subjects.x``,
    ``data["subjects"].x``)."""
    found: set[str] = set()
    for path in (ROOT / "services" / identity / "src").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Attribute) and node.attr in MEMBERS:
                base = ast.unparse(node.value).rstrip("]").strip("'\"")
                if base.endswith("subjects"):
                    found.add(node.attr)
    return found - NOT_SUBJECTS


def _reads_and_writes(identity: Identity, broker: NatsBroker | None) -> list[str]:
    granted = TABLE[identity]
    return [*granted.publish, *granted.subscribe, *_filters(broker)]


@pytest.mark.parametrize("identity", SERVICES)
def test_every_subject_a_service_names_is_granted(
    identity: Identity, brokers: dict[Identity, NatsBroker]
) -> None:
    """Each subject, stream or bucket a service's code names is one it may publish, subscribe
    to, consume (its durables' filters) or reach through the JetStream API."""
    grants = _reads_and_writes(identity, brokers.get(identity))
    for member in _referenced(identity):
        instances = _instances(member)
        if member.endswith(("_stream", "_bucket")):
            names = {instances[0], f"KV_{instances[0]}"}
            assert any(names & set(grant.split(".")) for grant in grants), (identity, member)
        else:
            assert any(allowed(grants, subject) for subject in instances), (identity, member)


@pytest.mark.parametrize("identity", SERVICES)
def test_a_service_is_granted_no_subject_its_code_does_not_name(identity: Identity) -> None:
    """Each subject of the prefix a service may publish or subscribe to is one its code names
    or one it publishes (tally.contracts.publications, which tests/test_asyncapi.py holds to
    the code: answers are published by tally.runtime.answers, dead letters by the broker
    every service shares)."""
    declared = {publication.name for publication in publications(S).get(identity, ())}
    members = _referenced(identity) | declared
    named = [subject for member in members for subject in _instances(member)]
    granted = TABLE[identity]
    for grant in [*granted.publish, *granted.subscribe]:
        if grant.startswith(f"{S.prefix}."):
            assert any(covers(grant, subject) for subject in named), (identity, grant)


def _able(subject: str, *, subscribe: bool = False) -> set[str]:
    return {
        identity
        for identity in IDENTITIES
        if allowed(TABLE[identity].subscribe if subscribe else TABLE[identity].publish, subject)
    }


CACHE = f"$KV.{S.answers_bucket}"
CHAT_SETTINGS = f"$KV.{S.chat_settings_bucket}"


@pytest.mark.parametrize(
    ("subject", "publishers"),
    [
        (S.answer("telegram", "q1"), {"nl2sql", "executor", "admin"}),
        (S.answer("telegram", "q1", "gw1"), {"nl2sql", "executor", "admin"}),
        (S.answer("cli", "q1"), {"nl2sql", "executor", "admin"}),
        (S.chat_event(-1001, "settings"), {"dashboard", "gateway", "admin"}),
        (S.chat_event(-1001, "message"), {"gateway", "admin"}),
        (f"{CHAT_SETTINGS}.-1001", {"ingest", "admin"}),
        (f"{CACHE}.answer.0a1b", {"executor", "admin"}),
        (f"{CACHE}.version.videos", {"executor", "ingest", "admin"}),
        (f"$KV.{S.ingest_lease_bucket}.chats", {"ingest", "admin"}),
        (f"$KV.{S.gateway_state_bucket}.throttle.private.7", {"gateway", "admin"}),
        (S.alert("firing"), {"alerts", "admin"}),
        (S.alert_command, {"gateway", "admin"}),
        (S.question_asked, {"gateway", "cli", "admin"}),
        (S.plan_ready, {"gateway", "cli", "nl2sql", "admin"}),
        (S.sql_proposed, {"nl2sql", "admin"}),
        (S.video_batch, {"admin"}),
        (f"$JS.API.STREAM.CREATE.{S.chat_events_stream}", {"admin"}),
        (f"$JS.API.STREAM.DELETE.{S.activity_stream}", {"admin"}),
        (f"$JS.API.STREAM.PURGE.KV_{S.answers_bucket}", {"admin"}),
        (f"$JS.API.CONSUMER.MSG.NEXT.{S.chat_events_stream}.ingest-chats", {"ingest", "admin"}),
        (f"$JS.API.CONSUMER.CREATE.{S.chat_events_stream}", {"admin"}),
        ("_INBOX.abc.def", set()),
        ("other.questions.asked", set()),
    ],
)
def test_who_may_publish(subject: str, publishers: set[str]) -> None:
    """Only the owner of a subject (and the operator) may publish it: answers come from
    nl2sql and the executor, settings changes from the dashboard and the gateway (a group
    admin's /settings), settings from ingest, cache entries from the executor, alerts from
    the alerts service, alert commands from the gateway; nobody may write to another's inbox
    or to another deployment's subjects."""
    assert _able(subject) == publishers


@pytest.mark.parametrize(
    ("subject", "subscribers"),
    [
        (S.answer("telegram", "q1"), {"gateway", "admin"}),
        (S.answer("telegram", "q1", "gw1"), {"gateway", "admin"}),
        (S.answer("cli", "q1"), {"cli", "admin"}),
        (S.question_asked, {"nl2sql", "admin"}),
        (S.chat_event(-1001, "message"), {"admin"}),
        (S.alert_command, {"alerts", "admin"}),
        (">", set()),
    ],
)
def test_who_may_subscribe(subject: str, subscribers: set[str]) -> None:
    """Telegram's answers reach the gateway, the terminal's the CLI; questions reach nl2sql;
    chat events are read through ingest's consumer only; nobody subscribes to everything."""
    assert _able(subject, subscribe=True) == subscribers


def test_no_identity_is_granted_a_catch_all() -> None:
    """No identity may use ``>``, all of JetStream's API or every bucket, nor publish to the
    inboxes (replies go through ``allow_responses``)."""
    catch_all = {">", "$JS.>", "$JS.API.>", "$KV.>", INBOX}
    for identity, granted in TABLE.items():
        assert granted.publish and granted.subscribe, identity
        assert not catch_all & {*granted.publish, *granted.subscribe} - {INBOX}, identity
        assert INBOX not in granted.publish, identity
