"""The reactions standing per message and emoji (``message_reactions``), and the daily reaction
rollups that follow them.

Per message and emoji the reactions standing are the larger of its named reactions
(``reactions``) and its anonymous total (``reaction_counts``): a total already includes the
named reactions it covers. After a batch has applied its reaction changes and totals, each
message they touched is counted again from those two tables; the difference from its stored
``message_reactions`` rows goes to ``reaction_emoji_daily`` and to the author's ``received`` in
``user_reactions_daily``, on the local day the message was sent (in the chat's zone as of the
batch's last event about it), and the named reactions added or taken back go to the reactor's
``given`` on that day; ``message_reaction_totals`` keeps each message's sum. Counting states,
not events, is what makes a redelivered change add nothing. Reactions to a message that is not
stored (sent before Tally saw the chat, or deleted by retention) count nowhere, as the reports
count reactions on stored messages. A reaction may be stored before its message (the gateway
publishes Telegram's updates as they are handled, concurrently): a batch that inserts a message
counts the reactions already standing on it, received and given, so the rollups are the same
in whichever order the two arrive.
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from tally.chatstore.tables import Row
from tally.chatstore.write import statements as sql
from tally.chatstore.write.batch import BatchPlan, local_day
from tally.chatstore.write.rollups import Rollups

EmojiKey = tuple[int, int, str]
"""(chat_id, message_id, emoji)."""


Keys = Sequence[tuple[int, int]]
"""(chat_id, message_id) of messages."""


async def _found(connection: AsyncConnection, statement: Any, keys: Keys) -> list[Any]:
    result = await sql.execute_batch(connection, statement, sql.key_arrays(sql.COUNTS_KEY, keys))
    return list(result.all())


async def _counts(connection: AsyncConnection, statement: Any, keys: Keys) -> dict[EmojiKey, int]:
    return {(c, m, emoji): int(n) for c, m, emoji, n in await _found(connection, statement, keys)}


async def settle_totals(
    connection: AsyncConnection,
    plan: BatchPlan,
    rollups: Rollups,
    inserted: dict[tuple[int, int], str] | None = None,
) -> None:
    """Recount the reactions standing on every message whose reactions or totals ``plan``
    changed, and on every message the batch ``inserted`` (``(chat_id, message_id)`` -> the
    chat's zone); store them in ``message_reactions`` and their change in ``rollups``."""
    new = dict(inserted or {})
    if new:  # only those with reactions already stored: most new messages have none yet
        reacted = {(c, m) for c, m in await _found(connection, sql.REACTED, sorted(new))}
        new = {key: zone for key, zone in new.items() if key in reacted}
    zones = dict(new)
    zones.update({event.key[:2]: event.zone for event in plan.reactions})
    zones.update({key: report.zone for key, report in plan.reaction_counts.items()})
    if not zones:
        return
    keys = sorted(zones)
    sent: dict[tuple[int, int], tuple[datetime, int | None]] = {}
    for c, m, sent_at, author in sorted(await _found(connection, sql.ORIGINALS, keys)):
        sent[c, m] = (sent_at, author)  # the latest message of an id, if ids ever repeat
    named = await _counts(connection, sql.NAMED_COUNTS, keys)
    anonymous = await _counts(connection, sql.ANONYMOUS_COUNTS, keys)
    before = await _counts(connection, sql.STANDING_TOTALS, keys)
    now = {
        key: max(named.get(key, 0), anonymous.get(key, 0))
        for key in named.keys() | anonymous.keys()
        if key[:2] in sent
    }
    for key in sorted(now.keys() | before.keys()):
        delta = now.get(key, 0) - before.get(key, 0)
        if delta and key[:2] in sent:
            sent_at, author = sent[key[:2]]
            day = local_day(sent_at, zones[key[:2]])
            rollups.reacted(key[0], day, key[2], author, delta)
    for chat_id, message_id, user_id, delta in rollups.named:
        if (chat_id, message_id) in sent and (chat_id, message_id) not in new:
            day = local_day(sent[chat_id, message_id][0], zones[chat_id, message_id])
            rollups.gave(chat_id, day, user_id, delta)
    if new:  # nothing was counted for them before: every named reaction standing now
        for chat_id, message_id, user_id, count in await _found(
            connection, sql.NAMED_BY_REACTOR, sorted(new)
        ):
            if (chat_id, message_id) in sent:
                day = local_day(sent[chat_id, message_id][0], zones[chat_id, message_id])
                rollups.gave(chat_id, day, user_id, int(count))
    rows = [
        {
            "chat_id": c,
            "message_id": m,
            "emoji": emoji,
            "sent_at": sent[c, m][0],
            "author_id": sent[c, m][1],
            "count": count,
        }
        for (c, m, emoji), count in sorted(now.items())
        if count > 0
    ]
    by_message = _message_totals(now, sent, zones)
    columns = {
        **sql.key_arrays(sql.COUNTS_KEY, keys),
        **sql.prefixed("by_emoji_", sql.TOTALS_COLUMNS, rows),
        **sql.prefixed("by_message_", sql.MESSAGE_TOTALS_COLUMNS, by_message),
    }
    await sql.execute_batch(connection, sql.REPLACE_TOTALS, columns)


def _message_totals(
    now: dict[EmojiKey, int],
    sent: dict[tuple[int, int], tuple[datetime, int | None]],
    zones: dict[tuple[int, int], str],
) -> list[Row]:
    """The ``message_reaction_totals`` rows of the reactions standing ``now`` (those with
    some), sorted by key."""
    totals: dict[tuple[int, int], int] = {}
    for (c, m, _), count in now.items():
        totals[c, m] = totals.get((c, m), 0) + count
    return [
        {
            "chat_id": c,
            "message_id": m,
            "day": local_day(sent[c, m][0], zones[c, m]),
            "sent_at": sent[c, m][0],
            "author_id": sent[c, m][1],
            "reactions": total,
        }
        for (c, m), total in sorted(totals.items())
        if total > 0
    ]
