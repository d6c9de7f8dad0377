"""Who may publish and subscribe what on the bus: one NATS user per service, least privilege.

The bus is a trust boundary (docs/security.md, "The bus"): a message is believed because of
who may publish its subject, so each service's NATS user may publish only what its contract
says it publishes and subscribe only to what it consumes. The table is derived from
:class:`~tally.contracts.subjects.Subjects`, so it moves with the subjects it names.

NATS subjects take wildcards (``*`` one token, ``>`` the rest). JetStream is reached through
its API (``$JS.API.STREAM.INFO.<stream>``, ``$JS.API.CONSUMER.MSG.NEXT.<stream>.<durable>``,
...), acknowledgements (``$JS.ACK.<stream>.<durable>.>``) and, for a key-value bucket, the
subjects ``$KV.<bucket>.<key>`` of its stream ``KV_<bucket>``. Replies (JetStream's, and
those to requests) come on ``_INBOX.>``; a service that answers requests may publish only
to the reply subject of a request it received (``allow_responses``), never to ``_INBOX.>``.

``cli`` is ``tally ask`` and ``tally chat`` (they ask as the gateway does, on the ``cli``
channel) and ``tally health``. ``admin`` is the operator: it declares the streams and
buckets, imports videos, seeds and replays chats and runs load tests, so it may do anything
within the deployment's prefix; give it to no service.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal, get_args

from tally.contracts.chat_events import KINDS, SettingsChanged
from tally.contracts.subjects import ALERTS_DURABLE, Channel, Subjects

Identity = Literal["gateway", "nl2sql", "executor", "ingest", "alerts", "dashboard", "cli", "admin"]
SERVICES: Final[tuple[Identity, ...]] = (
    "gateway",
    "nl2sql",
    "executor",
    "ingest",
    "alerts",
    "dashboard",
)
IDENTITIES: Final[tuple[Identity, ...]] = get_args(Identity)
INBOX: Final = "_INBOX.>"
SETTINGS_KIND: Final = SettingsChanged.model_fields["kind"].default
"""The chat event kind of a settings change: published by the dashboard and by the gateway
(a group admin's /settings), never written to the settings bucket by either (ingest does)."""


@dataclass(frozen=True, slots=True)
class Permissions:
    """One NATS user's allow-lists (subjects, wildcards allowed); ``allow_responses`` lets it
    publish one reply to each request it received."""

    publish: tuple[str, ...]
    subscribe: tuple[str, ...]
    allow_responses: bool = False

    def __add__(self, other: "Permissions") -> "Permissions":
        """Both allow-lists, in order, without repeats."""
        return Permissions(
            publish=tuple(dict.fromkeys([*self.publish, *other.publish])),
            subscribe=tuple(dict.fromkeys([*self.subscribe, *other.subscribe])),
            allow_responses=self.allow_responses or other.allow_responses,
        )


def covers(pattern: str, subject: str) -> bool:
    """Whether the subject ``pattern`` matches everything ``subject`` matches, as nats-server
    decides a permission (``subject`` may hold wildcards: ``*`` covers ``*``, ``>`` covers
    anything of one token or more)."""
    wanted, given = pattern.split("."), subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return len(given) > index
        if index >= len(given) or given[index] == ">":
            return False
        if token not in ("*", given[index]):
            return False
    return len(given) == len(wanted)


def allowed(patterns: Iterable[str], subject: str) -> bool:
    """Whether one of ``patterns`` covers ``subject``."""
    return any(covers(pattern, subject) for pattern in patterns)


def kv_stream(bucket: str) -> str:
    """The JetStream stream that holds key-value bucket ``bucket``."""
    return f"KV_{bucket}"


def stream_info(stream: str) -> list[str]:
    """Read one stream's configuration and state (also: open a bucket, ``KV_<bucket>``)."""
    return [f"$JS.API.STREAM.INFO.{stream}"]


def monitor(stream: str) -> list[str]:
    """Read one stream's state and its consumers' backlogs."""
    return [*stream_info(stream), f"$JS.API.CONSUMER.LIST.{stream}"]


def consume(stream: str, durable: str) -> list[str]:
    """Create (once), read the state of, pull from and acknowledge one durable consumer."""
    api = "$JS.API.CONSUMER"
    return [
        f"{api}.INFO.{stream}.{durable}",
        f"{api}.CREATE.{stream}.{durable}",
        f"{api}.CREATE.{stream}.{durable}.>",
        f"{api}.DURABLE.CREATE.{stream}.{durable}",
        f"{api}.MSG.NEXT.{stream}.{durable}",
        f"$JS.ACK.{stream}.{durable}.>",
    ]


def kv_read(bucket: str) -> list[str]:
    """Open a bucket and get its keys (direct gets, or the stream's message API)."""
    stream = kv_stream(bucket)
    return [
        *stream_info(stream),
        f"$JS.API.DIRECT.GET.{stream}",
        f"$JS.API.DIRECT.GET.{stream}.>",
        f"$JS.API.STREAM.MSG.GET.{stream}",
    ]


def kv_watch(bucket: str) -> list[str]:
    """Read a bucket and watch it: an ordered push consumer, made anew when it falls behind,
    with JetStream's flow control answered."""
    stream = kv_stream(bucket)
    return [
        *kv_read(bucket),
        f"$JS.API.CONSUMER.CREATE.{stream}",
        f"$JS.API.CONSUMER.CREATE.{stream}.>",
        f"$JS.API.CONSUMER.INFO.{stream}.>",
        f"$JS.API.CONSUMER.DELETE.{stream}.>",
        f"$JS.FC.{stream}.>",
    ]


def kv_write(bucket: str, keys: str = ">") -> list[str]:
    """Put, create, update and delete ``keys`` (a subject pattern) of a bucket."""
    return [f"$KV.{bucket}.{keys}"]


def kv_own(bucket: str) -> list[str]:
    """Everything a bucket's owner does: create the bucket when missing, read and write it."""
    return [f"$JS.API.STREAM.CREATE.{kv_stream(bucket)}", *kv_read(bucket), *kv_write(bucket)]


def manage(stream: str) -> list[str]:
    """Everything on one stream: create, update, delete, purge, read messages, any consumer."""
    api = "$JS.API"
    return [
        f"{api}.STREAM.*.{stream}",
        f"{api}.STREAM.MSG.*.{stream}",
        f"{api}.DIRECT.GET.{stream}",
        f"{api}.DIRECT.GET.{stream}.>",
        f"{api}.CONSUMER.*.{stream}",
        f"{api}.CONSUMER.*.{stream}.>",
        f"{api}.CONSUMER.DURABLE.CREATE.{stream}.*",
        f"{api}.CONSUMER.MSG.NEXT.{stream}.*",
        f"$JS.ACK.{stream}.>",
        f"$JS.FC.{stream}.>",
    ]


def buckets(subjects: Subjects) -> list[str]:
    """The deployment's key-value buckets."""
    return [
        subjects.answers_bucket,
        subjects.chat_settings_bucket,
        subjects.ingest_lease_bucket,
        subjects.digests_bucket,
        subjects.gateway_state_bucket,
    ]


def declared(subjects: Subjects) -> list[str]:
    """What a service reads when it starts (``declare_streams``): that each stream and the
    shared buckets exist."""
    shared = [
        subjects.answers_bucket,
        subjects.chat_settings_bucket,
        subjects.digests_bucket,
        subjects.gateway_state_bucket,
    ]
    return [
        f"$JS.API.STREAM.INFO.{name}"
        for name in [*subjects.streams, *(kv_stream(bucket) for bucket in shared)]
    ]


def answers(subjects: Subjects) -> list[str]:
    """Every channel's answers (``answers.<channel>.<question id>``, and
    ``answers.<channel>.<instance>.<question id>`` for a question with ``reply_to``)."""
    channels = get_args(Channel)
    return [
        *(subjects.answers_for(channel) for channel in channels),
        *(subjects.answers_routed(channel) for channel in channels),
    ]


def gateway(s: Subjects) -> Permissions:
    """Telegram's side: questions, picks, users seen, feedback, the admin audit and the chat
    events of every kind (settings too: a group admin's /settings); reports and alert
    commands asked for; Telegram's answers (any instance's: the instance id is chosen at
    start), alerts and digests read, the chat settings
    watched, the digests bucket read and written (a chat admin's /digest), the gateways'
    shared state read and written (throttles, readings offered, last answers, bot roles)."""
    events = [s.chat_events_of_kind(kind) for kind in KINDS]
    requests = [s.chat_report, s.ops_report, s.alert_command]
    told = [s.question_asked, s.plan_ready, s.user_seen, s.feedback, s.admin_audit, *events]
    digests = [*kv_read(s.digests_bucket), *kv_write(s.digests_bucket)]
    state = [*kv_read(s.gateway_state_bucket), *kv_write(s.gateway_state_bucket)]
    return Permissions(
        publish=(*told, *requests, s.dead_letter("gateway"), *declared(s)),
        subscribe=(
            s.answers_for("telegram"),
            s.answers_routed("telegram"),
            s.alerts_all,
            s.digest_ready,
            INBOX,
        ),
    ) + _jetstream([*kv_watch(s.chat_settings_bucket), *digests, *state])


def nl2sql(s: Subjects) -> Permissions:
    """Questions in; plans, proposed SQL and the answers it gives itself (refusals, readings
    to pick from) out; the empty reply to a question asked with a reply subject (the CLI's,
    to learn when nobody takes it)."""
    return Permissions(
        publish=(
            s.plan_ready,
            s.sql_proposed,
            *answers(s),
            s.dead_letter("nl2sql"),
            *declared(s),
        ),
        subscribe=(s.question_asked, INBOX),
        allow_responses=True,  # FastStream replies to a question's reply subject (the CLI's)
    )


def executor(s: Subjects) -> Permissions:
    """Plans, proposed SQL and report requests in; answers and replies out; the answer cache
    read and written (entries, and a dataset's first version); the streams monitored for the
    admins' reports."""
    cache = [*kv_read(s.answers_bucket), *kv_write(s.answers_bucket)]
    return Permissions(
        publish=(*answers(s), s.dead_letter("executor"), *declared(s)),
        subscribe=(s.plan_ready, s.sql_proposed, s.chat_report, s.ops_report, INBOX),
        allow_responses=True,
    ) + _jetstream([*cache, *(api for name in s.streams for api in monitor(name))])


def ingest(s: Subjects) -> Permissions:
    """Its durable consumers (videos, activity, chat events); import progress and dead
    letters out; the dataset versions of the answer cache moved; the chat settings and the
    lease buckets owned."""
    consumers = [api for stream, durable in s.ingest_consumers for api in consume(stream, durable)]
    versions = [*kv_read(s.answers_bucket), *kv_write(s.answers_bucket, "version.>")]
    owned = [*kv_own(s.chat_settings_bucket), *kv_own(s.ingest_lease_bucket)]
    return Permissions(
        publish=(s.imports_all, s.dead_letter("ingest"), *declared(s)),
        subscribe=(INBOX,),
    ) + _jetstream([*consumers, *versions, *owned])


def alerts(s: Subjects) -> Permissions:
    """Answers in (durable ``alerts``) and alert commands answered; alerts out; the streams
    monitored for their backlogs. Digests: the digests bucket owned and listed (claims are
    compare-and-set updates), the chat settings read (each chat's zone), chat ``stats``
    reports asked of the executor, the cards published to the gateway."""
    watched = [api for name in s.streams for api in monitor(name)]
    digests = [
        *kv_own(s.digests_bucket),
        *kv_watch(s.digests_bucket),
        *kv_read(s.chat_settings_bucket),
    ]
    return Permissions(
        publish=(
            s.alert("firing"),
            s.alert("resolved"),
            s.digest_ready,
            s.chat_report,
            s.dead_letter("alerts"),
            *declared(s),
        ),
        subscribe=(s.alert_command, INBOX),
        allow_responses=True,
    ) + _jetstream([*consume(s.activity_stream, ALERTS_DURABLE), *watched, *digests])


def dashboard(s: Subjects) -> Permissions:
    """Only settings changes out (ingest writes them); it reads PostgreSQL, not the bus."""
    return Permissions(
        publish=(s.chat_events_of_kind(SETTINGS_KIND), *declared(s)),
        subscribe=(INBOX,),
    )


def cli(s: Subjects) -> Permissions:
    """``tally ask`` and ``tally chat``: questions and picks out, terminal answers in;
    ``tally health``: the streams exist."""
    return Permissions(
        publish=(s.question_asked, s.plan_ready, *(stream_info(name)[0] for name in s.streams)),
        subscribe=(s.answers_for("cli"), INBOX),
    )


def admin(s: Subjects) -> Permissions:
    """The operator: every subject of the prefix, every stream and bucket of the deployment."""
    everything = f"{s.prefix}.>"
    stores = [*s.streams, *(kv_stream(bucket) for bucket in buckets(s))]
    return Permissions(
        publish=(everything, *(api for name in stores for api in manage(name))),
        subscribe=(everything, INBOX),
        allow_responses=True,
    ) + _jetstream([api for bucket in buckets(s) for api in kv_write(bucket)])


def _jetstream(publish: list[str]) -> Permissions:
    """JetStream API subjects, published as requests (the replies come on the inbox)."""
    return Permissions(publish=tuple(publish), subscribe=())


def permissions(subjects: Subjects) -> dict[Identity, Permissions]:
    """The table: each identity's permissions in the deployment of ``subjects``."""
    return {
        "gateway": gateway(subjects),
        "nl2sql": nl2sql(subjects),
        "executor": executor(subjects),
        "ingest": ingest(subjects),
        "alerts": alerts(subjects),
        "dashboard": dashboard(subjects),
        "cli": cli(subjects),
        "admin": admin(subjects),
    }
