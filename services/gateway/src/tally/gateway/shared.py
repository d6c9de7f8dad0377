"""What every gateway must see alike, whichever one a user's next update reaches (several
webhook gateways behind one address, docs/scaling.md): kept in the JetStream key-value bucket
``subjects.gateway_state_bucket``, declared with the streams
(:func:`tally.contracts.streams.gateway_state_config`: entries dropped a day after their last
write, one value per key).

Keys:

* ``throttle.<scope>.<user_id>``: a user's :class:`ThrottleTimes` in private chats
  (``private``) or in groups (``group``), as ``"<allowed_at> <warned_at>"``, wall-clock
  (``time.time()``) seconds: the gateways compare them, so their clocks must agree (NTP) to
  well within an interval. Updated by compare-and-set on the revision read.
* ``choices.<question id, 32 hex digits>``: the ambiguous QuestionAnswered whose readings are
  offered (JSON); an empty value once one was picked (compare-and-set, so it is picked once).
* ``answer.<chat_id>``: the last answer sent to the chat (JSON), for /sql.
* ``role.<chat_id>``: ``admin`` when the bot administers the group, else ``member``.

First contact (``UserSeen``) stays in each process (a second UserSeen is harmless: ingest
upserts), and so do re-asks (the answers to a question come to the gateway that asked it).
"""

import time
from collections import OrderedDict
from typing import Final
from uuid import UUID

import nats.errors
import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from nats.js import JetStreamContext
from nats.js.errors import BucketNotFoundError, KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from tally.contracts.choices import plan_choice
from tally.contracts.events import QueryPlanned, QuestionAnswered
from tally.contracts.streams import gateway_state_config
from tally.contracts.subjects import Subjects
from tally.gateway.domain.memory import PickRefusal, ThrottleTimes, Verdict, pick_refusal
from tally.gateway.telegram.chat_events import is_administrator

WRITE_ATTEMPTS: Final = 5
"""Compare-and-set attempts on one throttle entry before its message is dropped: each failed
attempt means another message of the same user was judged in between."""

log = structlog.get_logger(__name__)


class GatewayStateClosedError(RuntimeError):
    """The gateway state bucket was used before :meth:`GatewayState.open`."""


class GatewayState:
    """The bucket, once opened (:meth:`open`, when the gateway starts)."""

    def __init__(self, subjects: Subjects, *, replicas: int = 1) -> None:
        self._subjects, self._replicas = subjects, replicas
        self._bucket: KeyValue | None = None

    async def open(self, js: JetStreamContext) -> None:
        """Open the bucket, created when missing (on ``replicas`` servers; an operator's
        ``tally declare-streams`` creates it first where the gateway may not).

        Raises ``nats.errors.Error`` when JetStream does not answer.
        """
        try:
            self._bucket = await js.key_value(self._subjects.gateway_state_bucket)
        except BucketNotFoundError:
            config = gateway_state_config(self._subjects, replicas=self._replicas)
            self._bucket = await js.create_key_value(config)

    def use(self, bucket: KeyValue) -> None:
        """Keep the state in ``bucket`` (a test's in-memory one)."""
        self._bucket = bucket

    @property
    def bucket(self) -> KeyValue:
        """The bucket; raises GatewayStateClosedError before :meth:`open`."""
        if self._bucket is None:
            raise GatewayStateClosedError("the gateway state bucket is not open")
        return self._bucket


class SharedThrottle:
    """A per-user minimum interval of ``interval_s`` seconds between handled messages
    (:meth:`ThrottleTimes.judge`), the same on every gateway; 0 turns it off.

    A verdict that changes the user's times is written by compare-and-set on the revision
    read, judged again on the newer entry when another message came first, so concurrent
    messages of one user on several gateways get one ALLOW and one WARN per interval. The
    times and revision last seen of the ``max_users`` most recent users are kept here: a
    message is dropped without a round trip when they already judge DROP (times only move
    forward), and otherwise judged on them and written on their revision without reading
    first (one round trip instead of two for a user this gateway judged last; when another
    gateway wrote since, the write is refused and the entry read). When the bucket cannot
    be reached, the message is allowed (logged).
    """

    def __init__(
        self, state: GatewayState, scope: str, interval_s: float, *, max_users: int = 10_000
    ) -> None:
        self._state, self._scope, self.interval_s = state, scope, interval_s
        self._seen: OrderedDict[int, tuple[ThrottleTimes, int]] = OrderedDict()
        self._max_users = max_users

    async def check(self, user_id: int) -> Verdict:
        """The verdict for a message of ``user_id`` arriving now; it is remembered."""
        if not self.interval_s:
            return Verdict.ALLOW
        now = time.time()
        seen = self._seen.get(user_id)
        if seen is not None and seen[0].settled(now, self.interval_s):
            return Verdict.DROP
        try:
            return await self._judge(f"throttle.{self._scope}.{user_id}", user_id, now, seen)
        except (nats.errors.Error, TimeoutError) as error:
            log.warning("throttle state unavailable, message allowed", error=repr(error))
            return Verdict.ALLOW

    async def _judge(
        self, key: str, user_id: int, now: float, seen: tuple[ThrottleTimes, int] | None
    ) -> Verdict:
        bucket = self._state.bucket
        for _ in range(WRITE_ATTEMPTS):
            times, revision = seen if seen is not None else await _read_times(bucket, key)
            seen = None  # a refused write reads the entry
            verdict, wanted = times.judge(now, self.interval_s)
            if wanted != times:
                try:
                    revision = await _write(bucket, key, _times_value(wanted), revision)
                except KeyWrongLastSequenceError:
                    continue
            if revision is not None:
                self._remember(user_id, wanted, revision)
            return verdict
        return Verdict.DROP

    def _remember(self, user_id: int, times: ThrottleTimes, revision: int) -> None:
        self._seen[user_id] = (times, revision)
        self._seen.move_to_end(user_id)
        if len(self._seen) > self._max_users:
            self._seen.popitem(last=False)


def _times_value(times: ThrottleTimes) -> bytes:
    return f"{times.allowed_at!r} {times.warned_at!r}".encode()


async def _read_times(bucket: KeyValue, key: str) -> tuple[ThrottleTimes, int | None]:
    try:
        entry = await bucket.get(key)
    except KeyNotFoundError:
        return ThrottleTimes(), None
    allowed_at, warned_at = (entry.value or b"-inf -inf").split()
    return ThrottleTimes(float(allowed_at), float(warned_at)), entry.revision


async def _write(bucket: KeyValue, key: str, value: bytes, revision: int | None) -> int:
    """Create ``key`` (``revision`` None) or update it on ``revision``; its new revision.
    Raises KeyWrongLastSequenceError when another write came first."""
    if revision is None:
        return await bucket.create(key, value)
    return await bucket.update(key, value, last=revision)


class SharedChoices:
    """Ambiguous answers whose readings can still be picked, on any gateway, for a day."""

    def __init__(self, state: GatewayState) -> None:
        self._state = state

    async def offer(self, answer: QuestionAnswered) -> None:
        """Offer the readings of ``answer`` (one with ``choices``) to its asker (not offered,
        logged, when the bucket cannot be written: the answer is still sent, a press on its
        buttons says the question expired)."""
        key = _choices_key(answer.question.question_id)
        try:
            await self._state.bucket.put(key, answer.model_dump_json().encode())
        except (nats.errors.Error, TimeoutError) as error:
            log.warning("readings not offered", question_id=key, error=repr(error))

    async def pick(
        self, question_id: UUID, number: int, *, user_id: int
    ) -> QueryPlanned | PickRefusal:
        """The QueryPlanned for reading ``number`` (1-based) of the question, which is then
        marked picked (compare-and-set), so it is picked once whatever the gateway pressed on
        (see ``plan_choice``).

        NOT_YOURS when ``user_id`` did not ask it; EXPIRED when the question is unknown, a
        day old or already picked, or has no reading ``number``. Raises ``nats.errors.Error``
        when the bucket cannot be reached.
        """
        key = _choices_key(question_id)
        try:
            entry = await self._state.bucket.get(key)
        except KeyNotFoundError:
            return PickRefusal.EXPIRED
        if not entry.value:
            return PickRefusal.EXPIRED
        answer = QuestionAnswered.model_validate_json(entry.value)
        refusal = pick_refusal(answer, number, user_id=user_id)
        if refusal is not None:
            return refusal
        try:
            await self._state.bucket.update(key, b"", last=entry.revision)
        except KeyWrongLastSequenceError:
            return PickRefusal.EXPIRED
        return plan_choice(answer, number)


def _choices_key(question_id: UUID) -> str:
    return f"choices.{question_id.hex}"


class SharedLastAnswers:
    """The last answer sent to each chat (for /sql), whichever gateway sent it; a day."""

    def __init__(self, state: GatewayState) -> None:
        self._state = state

    async def remember(self, answer: QuestionAnswered) -> None:
        """Keep ``answer`` as the last one of its chat (not kept, logged, when the bucket
        cannot be written: /sql then shows an older one)."""
        key = f"answer.{answer.question.chat_id}"
        try:
            await self._state.bucket.put(key, answer.model_dump_json().encode())
        except (nats.errors.Error, TimeoutError) as error:
            log.warning("last answer not kept", chat_id=answer.question.chat_id, error=repr(error))

    async def last(self, chat_id: int) -> QuestionAnswered | None:
        """The last answer sent to ``chat_id``, or None. Raises ``nats.errors.Error`` when
        the bucket cannot be read."""
        try:
            entry = await self._state.bucket.get(f"answer.{chat_id}")
        except KeyNotFoundError:
            return None
        return QuestionAnswered.model_validate_json(entry.value) if entry.value else None


class SharedBotRoles:
    """The bot's role in each chat: whether it administers it (then ``chat_member`` updates
    arrive there), as the last update about it said, on whichever gateway it came."""

    def __init__(self, state: GatewayState) -> None:
        self._state = state

    async def remember(self, chat_id: int, *, admin: bool) -> None:
        """Record what Telegram just said about the bot's role in ``chat_id``. Raises
        ``nats.errors.Error`` when the bucket cannot be written."""
        await self._state.bucket.put(f"role.{chat_id}", b"admin" if admin else b"member")

    async def is_admin(self, bot: Bot, chat_id: int) -> bool:
        """The bot's role in ``chat_id``, asked with ``getChatMember`` when no gateway knows it.

        When Telegram cannot say, False (not remembered): a join is better counted from the
        service message than not at all. Raises ``nats.errors.Error`` when the bucket cannot
        be reached.
        """
        try:
            entry = await self._state.bucket.get(f"role.{chat_id}")
        except KeyNotFoundError:
            pass
        else:
            return entry.value == b"admin"
        try:
            member = await bot.get_chat_member(chat_id, bot.id)
        except TelegramAPIError as error:
            log.warning("bot role unknown", chat_id=chat_id, error=str(error))
            return False
        admin = is_administrator(member)
        await self.remember(chat_id, admin=admin)
        return admin
