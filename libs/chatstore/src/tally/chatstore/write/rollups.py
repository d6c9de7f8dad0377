"""The rollups' increments of one batch.

The new messages' increments (but for their words and hashtags) are summed by PostgreSQL, in
the statement that inserts them, from the rows it inserted
(:data:`~tally.chatstore.write.rollup_statements.INSERT_MESSAGES`, issue 17: summing them in Python
and sending the sums back took a fifth of the writer's CPU). The others (edits, member events,
reactions, words and hashtags) are summed here, in memory, and upserted in one statement
(:data:`~tally.chatstore.write.rollup_statements.UPSERT_ROLLUPS`); the ``*_rows`` methods give each
table's increments sorted by key as column arrays
(:data:`~tally.chatstore.write.statements.Columns`, ``{}`` when there are none).

Only rows the database actually inserted (or changed) count, which is what makes a
redelivered batch or a replay add nothing twice:

* ``chat_daily`` (chat, local day): messages and words of messages inserted, word changes of
  edits (on the message's day), joins and leaves inserted, and reactions standing: +1 for
  each reaction added on the day it was added, -1 on that same day when it is taken back
  (so the rollup always equals the ``reactions`` table counted by day).
* ``user_chat_daily`` (chat, local day, user): messages and words (messages with a sender);
  ``user_chat_monthly`` (chat, month, user): the same increments, summed by month.
* ``chat_hourly`` (chat, UTC hour): messages and words.
* ``user_hours_daily`` (chat, user, local day, local hour): messages inserted with a sender;
  ``user_hours_monthly`` (chat, user, month, local hour): the same, summed by month.
* ``chat_content_daily`` (chat, local day, message type): messages inserted, their links,
  mentions and hashtags, forwards and replies.
* ``chat_topic_daily`` (chat, local day, thread id; 0: none): messages inserted;
  ``user_topic_monthly`` (chat, month, thread id, user): the day's bit of each sender (set
  with ``|``, so it is idempotent by itself).
* ``reply_pairs_daily`` (chat, local day, replier (0: anonymous), author replied to): replies
  inserted whose original was found with an author, self-replies left out;
  ``user_replies_daily`` (chat, local day, author) and ``user_replies_monthly`` (chat, month,
  author): the same, summed by author; ``reply_pairs_monthly`` (chat, month, replier,
  author): the same, summed by month.
* ``reply_delays_daily`` (chat, delay bucket, local day, delay): replies inserted whose
  original was found (``reply_delay_s`` set, self-replies and anonymous authors included, as
  the median delay counts them); ``reply_delay_buckets_daily`` (chat, local day, bucket) and
  ``reply_delay_buckets_monthly`` (chat, month, bucket): the same, summed by bucket
  (:func:`~tally.chatstore.write.rollup_statements.delay_bucket`).
* ``reaction_emoji_daily`` (chat, local day the message was sent, emoji) and
  ``user_reactions_daily`` (chat, that day, user: received, given): the change in the
  reactions standing on the messages whose reactions the batch changed (see
  :mod:`tally.chatstore.write.reaction_totals`); ``named`` collects the named reactions added
  (+1) and taken back (-1) per (chat, message, reactor) for ``given``.
  ``user_reactions_monthly`` (chat, month, user): ``user_reactions_daily``'s increments,
  summed by month.
* ``chat_words_daily`` (chat, local day, language, word) and ``chat_hashtags_daily`` (chat,
  local day, tag): the words and hashtags (:mod:`tally.chatstore.tokens`) of the text of
  messages inserted, and of an edit's text less the text it replaced. Hashtags count only in
  messages Telegram marked as having one (``hashtags > 0``). The writer deletes a chat's rows
  when it erases the chat's text.

A message deleted in Telegram still counts (the rollups count messages sent).
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, TypeVar, cast

from tally.chatstore.tokens import count_words, hashtags_in
from tally.chatstore.write.batch import (
    BatchPlan,
    MessageKey,
    ReactionEvent,
    ReactionKey,
    local_day,
    utc_hour,
)
from tally.chatstore.write.statements import Columns

DAILY = ("messages", "words", "joins", "leaves", "reactions")
USER_DAILY = ("messages", "words")
HOURLY = ("messages", "words")
K = TypeVar("K", bound=tuple[Any, ...])
Standing = dict[ReactionKey, dict[str, datetime]]
"""Reactions that stand: per (chat, message, user), emoji -> when it was added (UTC)."""


@dataclass
class Rollups:
    """Increments per rollup row, keyed by the row's primary key."""

    daily: dict[tuple[int, date], list[int]] = field(default_factory=dict)
    user_daily: dict[tuple[int, date, int], list[int]] = field(default_factory=dict)
    hourly: dict[tuple[int, datetime], list[int]] = field(default_factory=dict)
    emoji_daily: dict[tuple[int, date, str], list[int]] = field(default_factory=dict)
    user_reactions: dict[tuple[int, date, int], list[int]] = field(default_factory=dict)
    named: list[tuple[int, int, int, int]] = field(default_factory=list)
    words: dict[tuple[int, date, str, str], list[int]] = field(default_factory=dict)
    tags: dict[tuple[int, date, str], list[int]] = field(default_factory=dict)

    def text(self, chat_id: int, day: date, text: str | None, tagged: bool, sign: int) -> None:
        """Count (``sign`` 1) or uncount (-1) the words of ``text`` (nothing when None) and,
        when ``tagged``, its hashtags, on ``day``."""
        if text is None:
            return
        for language, counted in count_words([text]).items():
            for word, n in counted.items():
                self.words.setdefault((chat_id, day, language, word), [0])[0] += sign * n
        for tag in hashtags_in(text) if tagged else ():
            self.tags.setdefault((chat_id, day, tag), [0])[0] += sign

    def message(
        self,
        chat_id: int,
        user_id: int | None,
        day: date,
        sent_at: datetime,
        *,
        messages: int,
        words: int,
    ) -> None:
        """Count ``messages`` messages of ``words`` words sent at ``sent_at`` (local ``day``)."""
        touched = [_totals(self.daily, (chat_id, day), len(DAILY))]
        touched.append(_totals(self.hourly, (chat_id, utc_hour(sent_at)), len(HOURLY)))
        if user_id is not None:
            touched.append(_totals(self.user_daily, (chat_id, day, user_id), len(USER_DAILY)))
        for totals in touched:
            totals[0] += messages  # messages and words lead every rollup's columns
            totals[1] += words

    def member(self, chat_id: int, day: date, change: str) -> None:
        """Count a join or a leave (``change``) on ``day``."""
        totals = self.daily.setdefault((chat_id, day), [0] * len(DAILY))
        totals[DAILY.index("joins" if change == "join" else "leaves")] += 1

    def reactions(self, chat_id: int, day: date, delta: int) -> None:
        """Add ``delta`` (negative when taken back) reactions on ``day``."""
        totals = self.daily.setdefault((chat_id, day), [0] * len(DAILY))
        totals[DAILY.index("reactions")] += delta

    def reacted(self, chat_id: int, day: date, emoji: str, author: int | None, delta: int) -> None:
        """``delta`` more ``emoji`` standing on a message of ``author`` sent on ``day``."""
        self.emoji_daily.setdefault((chat_id, day, emoji), [0])[0] += delta
        if author is not None:
            self.user_reactions.setdefault((chat_id, day, author), [0, 0])[0] += delta

    def gave(self, chat_id: int, day: date, user_id: int, delta: int) -> None:
        """``delta`` more named reactions by ``user_id`` on messages sent on ``day``."""
        self.user_reactions.setdefault((chat_id, day, user_id), [0, 0])[1] += delta

    def text_rows(self) -> tuple[Columns, Columns]:
        """(chat_words_daily, chat_hashtags_daily) increments, sorted by key."""
        return (
            _columns(self.words, ("chat_id", "day", "language", "word"), ("count",)),
            _columns(self.tags, ("chat_id", "day", "tag"), ("count",)),
        )

    def reaction_rows(self) -> tuple[Columns, Columns]:
        """(reaction_emoji_daily, user_reactions_daily) increments, sorted by key."""
        return (
            _columns(self.emoji_daily, ("chat_id", "day", "emoji"), ("count",)),
            _columns(self.user_reactions, ("chat_id", "day", "user_id"), ("received", "given")),
        )

    def monthly_rows(self) -> Columns:
        """user_chat_monthly (messages and words) increments: those of ``user_chat_daily``
        summed by month, sorted by key. (``user_reactions_monthly`` is summed in SQL from the
        daily arrays: :data:`~tally.chatstore.write.rollup_statements.SUMS`.)"""
        return _columns(_by_month(self.user_daily), ("chat_id", "month", "user_id"), USER_DAILY)

    def rows(self) -> tuple[Columns, Columns, Columns]:
        """(chat_daily, user_chat_daily, chat_hourly) increments, sorted by key so that
        concurrent writers lock rows in one order. A row touched is written even when its
        increments sum to zero (a reaction added and taken back): which rows exist then does
        not depend on how events were split into batches."""
        return (
            _columns(self.daily, ("chat_id", "day"), DAILY),
            _columns(self.user_daily, ("chat_id", "day", "user_id"), USER_DAILY),
            _columns(self.hourly, ("chat_id", "hour"), HOURLY),
        )


def _totals(totals: dict[K, list[int]], key: K, width: int) -> list[int]:
    """The increments of ``key`` in ``totals``, ``width`` zeros when new (unlike
    ``setdefault``, no list is made for a key already there: the writer's hot path)."""
    found = totals.get(key)
    if found is None:
        found = totals[key] = [0] * width
    return found


def _by_month(daily: Mapping[K, list[int]]) -> dict[K, list[int]]:
    """``daily`` (chat, local day, …) -> increments, summed by (chat, month, …)."""
    monthly: dict[K, list[int]] = {}
    for (chat_id, day, *rest), values in daily.items():
        key = cast(K, (chat_id, day.replace(day=1), *rest))
        totals = monthly.setdefault(key, [0] * len(values))
        for index, value in enumerate(values):
            totals[index] += value
    return monthly


def _columns(totals: dict[K, list[int]], keys: Sequence[str], columns: Sequence[str]) -> Columns:
    """``totals`` sorted by key, as the parameters of a :func:`~.statements.batch_of` statement
    (one list per key and count column; ``{}`` when empty). Transposing the sorted items
    builds no dict per row (issue 17: the per-row dicts were 18 % of the writer's CPU)."""
    if not totals:
        return {}
    ordered = sorted(totals.items())
    key_columns = zip(*[key for key, _ in ordered], strict=True)
    value_columns = zip(*[values for _, values in ordered], strict=True)
    names = (*keys, *columns)
    return {f"a_{n}": list(c) for n, c in zip(names, (*key_columns, *value_columns), strict=True)}


def count_inserted(
    rollups: Rollups, plan: BatchPlan, messages: Iterable[MessageKey], members: Iterable[str]
) -> None:
    """Count the words and hashtags of the messages the database inserted (their keys; the
    rest of what they add was counted in SQL, :data:`~.rollup_statements.INSERT_MESSAGES`) and the
    member events it inserted (their event ids)."""
    for key in messages:
        row = plan.messages[key]
        if row["text"] is not None:
            rollups.text(row["chat_id"], row["local_day"], row["text"], row["hashtags"] > 0, 1)
    for event_id in members:
        member = plan.members[event_id]
        rollups.member(member["chat_id"], plan.member_days[event_id], member["change"])


def settle_reactions(
    events: Sequence[ReactionEvent], standing: Standing, rollups: Rollups
) -> Standing:
    """Apply ``events`` in order to the reactions ``standing`` before them; count the
    difference in ``rollups``. Returns the final reactions of every key whose reactions
    changed (an empty dict: none left), each emoji with when it was added.

    An event older than the latest reaction standing for its key is skipped: it is a late
    redelivery of a change already applied, and applying it would undo a newer one.
    """
    current = {key: dict(emojis) for key, emojis in standing.items()}
    changed: set[ReactionKey] = set()
    for event in events:
        before = current.setdefault(event.key, {})
        if before and event.at < max(before.values()):
            continue
        chat_id = event.key[0]
        for emoji in [emoji for emoji in before if emoji not in event.emojis]:
            rollups.reactions(chat_id, local_day(before.pop(emoji), event.zone), -1)
            rollups.named.append((*event.key, -1))
            changed.add(event.key)
        for emoji in event.emojis:
            if emoji not in before:
                before[emoji] = event.at
                rollups.reactions(chat_id, local_day(event.at, event.zone), 1)
                rollups.named.append((*event.key, 1))
                changed.add(event.key)
    return {key: current[key] for key in sorted(changed)}
