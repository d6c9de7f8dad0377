"""Asking questions over the bus exactly as the gateway does (used by ask, chat and bench).

An ambiguous question is answered with numbered readings; :class:`Conversation` (the
terminal chat) takes a reply that is one of their numbers as the pick.
"""

import asyncio
import contextlib
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import nats
import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import NoServersError
from nats.errors import TimeoutError as NatsTimeoutError
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.trace import SpanKind

from tally.cli.errors import StackNotRunningError, quiet_client_errors
from tally.contracts.choices import plan_choice
from tally.contracts.events import Event, QuestionAnswered, QuestionAsked
from tally.contracts.language import detect_language
from tally.contracts.subjects import Subjects
from tally.infra.errors import UserFacingError
from tally.infra.settings import CommonSettings, redact

tracer = trace.get_tracer("tally.cli")
CLI_CHAT_ID = 0
"""Terminal questions carry chat and user id 0: they come from no Telegram chat."""


class NoAnswerError(UserFacingError):
    """No answer arrived in time (nl2sql or executor not running?)."""


class NotTakenError(UserFacingError):
    """Nobody took the question: NATS answered "no responders" (nl2sql not subscribed, e.g.
    still reconnecting after NATS restarted), or the connection to NATS was lost meanwhile."""


NOT_TAKEN = "Tally is not taking questions right now; try again in a moment."
NO_RESPONDERS = "503"
"""The status NATS sends to a message's reply subject when no subscriber took it."""


@dataclass(frozen=True, slots=True)
class Asked:
    """An answer with the trace it travelled in and the round trip seen by the asker (ms)."""

    answer: QuestionAnswered
    trace_id: str
    elapsed_ms: float


class Asker:
    """A NATS connection that publishes QuestionAsked and waits for the answers.

    Like the gateway, it holds one subscription to every terminal answer
    (``answers.cli.*``) and hands each to the question waiting for it.

    Questions travel on core NATS (no stream, for latency), so one in flight in an nl2sql
    or executor replica that dies is lost. A question not answered after ``reask_after_s``
    is therefore published again with the same question id, then after twice that delay,
    and so on until ``timeout_s`` (2 s, 6 s, 14 s by default). The first answer wins; a
    second one (the first replica was only slow) is ignored here, and the ACTIVITY stream
    keeps one of them (``Subjects.answer_headers``), so the questions log and the alerts
    count it once.

    Each question is published with a reply subject of its own, so NATS tells when no
    nl2sql took it (no responders): that question fails at once with
    :class:`NotTakenError` instead of waiting out the timeout, and so do the questions
    waiting when the connection is lost.
    """

    def __init__(
        self, settings: CommonSettings, *, timeout_s: float = 15.0, reask_after_s: float = 2.0
    ) -> None:
        self.settings = settings
        self.subjects = Subjects(settings.subject_prefix)
        self.timeout_s = timeout_s
        self.reask_after_s = reask_after_s
        self.reasked = 0
        """Questions published again because no answer came in time (since the start)."""
        self._client: Client | None = None
        self._waiting: dict[str, asyncio.Future[Msg]] = {}
        self._inbox = ""

    def _fail(self, question_id: str, error: UserFacingError) -> None:
        waiting = self._waiting.pop(question_id, None)
        if waiting and not waiting.done():
            waiting.set_exception(error)

    async def _not_taken(self, message: Msg) -> None:
        """A message on a question's reply subject: NATS's "no responders" fails it."""
        if (message.headers or {}).get("Status") == NO_RESPONDERS:
            self._fail(message.subject.rsplit(".", 1)[-1], NotTakenError(NOT_TAKEN))

    async def _closed(self) -> None:
        for question_id in list(self._waiting):
            self._fail(question_id, NotTakenError(f"Lost the connection to NATS. {NOT_TAKEN}"))

    async def _deliver(self, message: Msg) -> None:
        waiting = self._waiting.pop(message.subject.rsplit(".", 1)[-1], None)
        if waiting and not waiting.done():
            waiting.set_result(message)

    async def __aenter__(self) -> Self:
        try:
            self._client = await nats.connect(
                self.settings.nats_servers(),
                **self.settings.nats_auth(),
                connect_timeout=2,
                max_reconnect_attempts=1,  # 0 would mean "retry forever" to nats-py
                allow_reconnect=False,
                closed_cb=self._closed,
                error_cb=quiet_client_errors,
            )
        except (NoServersError, OSError, NatsTimeoutError) as error:
            raise StackNotRunningError(
                f"Cannot reach NATS at {redact(self.settings.nats_url)}: is Tally running"
                " (`make run`)?"
            ) from error
        except nats.errors.Error as error:  # the server refused the login
            raise StackNotRunningError(
                f"NATS at {redact(self.settings.nats_url)} refused "
                f"{self.settings.nats_user or 'a client without a user'}: set NATS_USER and "
                'NATS_PASSWORD (docs/security.md, "The bus").'
            ) from error
        await self._client.subscribe(self.subjects.answers_for("cli"), cb=self._deliver)
        self._inbox = self._client.new_inbox()
        await self._client.subscribe(f"{self._inbox}.*", cb=self._not_taken)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._client:
            await self._client.close()

    async def ask(self, text: str) -> Asked:
        """Publish ``text`` as a question and return its answer; raises NotTakenError when no
        nl2sql took it or the connection was lost, NoAnswerError on timeout."""
        question = QuestionAsked(
            channel="cli",
            chat_id=CLI_CHAT_ID,
            user_id=CLI_CHAT_ID,
            language=detect_language(text),
            text=text,
        )
        return await self._round_trip("cli ask", question, question, self.subjects.question_asked)

    async def pick(self, answer: QuestionAnswered, number: int) -> Asked:
        """Publish reading ``number`` (1-based) of the ambiguous ``answer`` to the executor
        (see ``plan_choice``) and return its answer.

        Raises ValueError for a number not offered, NoAnswerError on timeout.
        """
        planned = plan_choice(answer, number)
        question = planned.question
        return await self._round_trip("cli pick", question, planned, self.subjects.plan_ready)

    async def _round_trip(
        self, span_name: str, question: QuestionAsked, event: Event, subject: str
    ) -> Asked:
        """Publish ``event`` to ``subject`` inside a span; wait for ``question``'s answer,
        read inside a ``cli answer`` span continuing the trace the answer's headers carry."""
        assert self._client, "use Asker as an async context manager"
        question_id = str(question.question_id)
        arrived = self._waiting[question_id] = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        with tracer.start_as_current_span(span_name) as span:
            headers: dict[str, str] = {}
            inject(headers)
            payload, reply = event.model_dump_json().encode(), f"{self._inbox}.{question_id}"
            await self._client.publish(subject, payload, reply=reply, headers=headers)
            trace_id = format(span.get_span_context().trace_id, "032x")
            try:
                message = await self._await(arrived, subject, payload, headers, reply)
            except TimeoutError as error:
                self._waiting.pop(question_id, None)
                raise NoAnswerError(
                    f"No answer within {self.timeout_s:g} s: are nl2sql and executor running?"
                ) from error
        with tracer.start_as_current_span(
            "cli answer", context=extract(message.headers or {}), kind=SpanKind.CONSUMER
        ):
            answer = QuestionAnswered.model_validate_json(message.data)
        return Asked(answer, trace_id, (time.perf_counter() - started) * 1000)

    async def _await(
        self,
        arrived: asyncio.Future[Msg],
        subject: str,
        payload: bytes,
        headers: dict[str, str],
        reply: str,
    ) -> Msg:
        """The answer in ``arrived``, publishing the question again after ``reask_after_s``,
        then after each doubled delay; raises TimeoutError after ``timeout_s`` in all."""
        assert self._client
        loop = asyncio.get_running_loop()
        deadline, delay = loop.time() + self.timeout_s, self.reask_after_s
        while True:
            wait = min(delay, deadline - loop.time())
            with contextlib.suppress(TimeoutError):
                return await asyncio.wait_for(asyncio.shield(arrived), max(wait, 0))
            if loop.time() >= deadline:
                arrived.cancel()
                raise TimeoutError
            self.reasked += 1
            await self._client.publish(subject, payload, reply=reply, headers=headers)
            delay *= 2


class Conversation:
    """The terminal chat's turns: after an answer with readings, a reply that is one of their
    numbers ("2") picks that reading; anything else is a new question."""

    def __init__(self, asker: Asker) -> None:
        self._asker = asker
        self._offered: QuestionAnswered | None = None

    async def say(self, text: str) -> Asked:
        """The answer to ``text``: to the picked reading, or to ``text`` as a question.

        Raises NoAnswerError on timeout.
        """
        offered, number = self._offered, text.strip()
        if offered and number in {str(n) for n in range(1, len(offered.choices) + 1)}:
            asked = await self._asker.pick(offered, int(number))
        else:
            asked = await self._asker.ask(text)
        self._offered = asked.answer if asked.answer.choices else None
        return asked
