"""Telegram Desktop chat exports (``result.json``) written to the format Telegram Desktop
writes (``export_output_json.cpp``): messages with ``date``/``date_unixtime``, ``from`` and
``from_id``, ``text`` as a string or a list of parts with ``text_entities``, media fields,
``reactions``; service messages with ``actor``/``actor_id`` and ``action``."""

from datetime import UTC, datetime, timedelta
from typing import Any

START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


class ExportBuilder:
    """One chat's export, message by message; ids count up from ``first_id``, the first sent
    at ``start`` (aware), each a minute later unless sent ``at`` a moment of its own."""

    def __init__(
        self,
        bare_id: int,
        name: str = "Hiking Club",
        kind: str = "private_supergroup",
        *,
        start: datetime = START,
        first_id: int = 1,
    ):
        self.header: dict[str, Any] = {"name": name, "type": kind, "id": bare_id}
        self.messages: list[dict[str, Any]] = []
        self.start, self.first_id = start, first_id

    def _base(self, kind: str, at: datetime | None = None, **fields: Any) -> dict[str, Any]:
        moment = at or self.start + timedelta(minutes=len(self.messages))
        record = {
            "id": self.first_id + len(self.messages),
            "type": kind,
            "date": moment.replace(tzinfo=None).isoformat(),
            "date_unixtime": str(int(moment.timestamp())),
            **fields,
        }
        self.messages.append(record)
        return record

    def message(
        self,
        user: int | None,
        name: str | None,
        text: str | list[Any] = "",
        *,
        at: datetime | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """A message by user ``user`` (None: the chat itself speaking, an anonymous admin),
        sent ``at`` (aware; None: ``start`` plus a minute per record before it)."""
        sender = f"user{user}" if user is not None else f"channel{self.header['id']}"
        entities = [
            part if isinstance(part, dict) else {"type": "plain", "text": part}
            for part in ([text] if isinstance(text, str) and text else text or [])
        ]
        return self._base(
            "message",
            at,
            **{"from": name, "from_id": sender, "text": text, "text_entities": entities},
            **fields,
        )

    def edited(self, record: dict[str, Any], minutes: int = 5) -> None:
        moment = int(record["date_unixtime"]) + minutes * 60
        record["edited"] = datetime.fromtimestamp(moment).isoformat()
        record["edited_unixtime"] = str(moment)

    def service(self, actor: int, name: str, action: str, **fields: Any) -> dict[str, Any]:
        return self._base(
            "service", actor=name, actor_id=f"user{actor}", action=action, text="", **fields
        )

    def export(self) -> dict[str, Any]:
        return {**self.header, "messages": self.messages}


def reaction(emoji: str, count: int, *recent: tuple[int, str]) -> dict[str, Any]:
    """An emoji reaction total with its recent reactors."""
    return {
        "type": "emoji",
        "count": count,
        "emoji": emoji,
        "recent": [
            {"from": name, "from_id": f"user{user}", "date": "2025-03-01T10:00:00"}
            for user, name in recent
        ],
    }


def forum_export(bare_id: int) -> ExportBuilder:
    """A forum with two topics and a little of everything: entities, media, forwards, an
    edit, reactions, joins (invited, by link, by request), a leave, a removal, a title
    change, a pin, and one member named but never seen acting (no id to give)."""
    chat = ExportBuilder(bare_id, "Hiking Club")
    chat.service(11, "Ann Lee", "create_group", title="Hiking", members=["Ann Lee"])
    chat.message(11, "Ann Lee", "hello all")
    routes = chat.service(11, "Ann Lee", "topic_created", title="Routes")
    gear = chat.service(12, "Bob", "topic_created", title="Gear")
    chat.service(11, "Ann Lee", "invite_members", members=["Bob", "Cat Ng"])
    chat.service(13, "Cat Ng", "join_group_by_link", inviter="Ann Lee")
    chat.service(14, "Dan", "join_group_by_request")
    in_topic = chat.message(
        12,
        "Bob",
        [
            "see ",
            {"type": "link", "text": "https://example.org"},
            " #trail ",
            {"type": "mention", "text": "@ann"},
        ],
        reply_to_message_id=routes["id"],
    )
    chat.edited(in_topic)
    in_topic["text_entities"].insert(2, {"type": "hashtag", "text": "#trail"})
    chat.message(
        13,
        "Cat Ng",
        "me too",
        reply_to_message_id=in_topic["id"],
        reactions=[reaction("👍", 3, (11, "Ann Lee")), reaction("🔥", 1)],
    )
    chat.message(12, "Bob", "", reply_to_message_id=gear["id"], photo="(File not included.)")
    chat.message(
        11, "Ann Lee", "", file="(File not included.)", media_type="sticker", sticker_emoji="⛰"
    )
    chat.message(14, "Dan", "", file="a.ogg", media_type="voice_message")
    chat.message(14, "Dan", "", file="b.mp4", media_type="video_message")
    chat.message(14, "Dan", "", file="c.mp4", media_type="video_file")
    chat.message(13, "Cat Ng", "", file="d.mp4", media_type="animation")
    chat.message(13, "Cat Ng", "song", file="e.mp3", media_type="audio_file")
    chat.message(12, "Bob", "", file="f.pdf")
    chat.message(12, "Bob", "fwd from a friend", forwarded_from=None)
    chat.message(
        None, "Hiking Club", "admin here", reply_to_message_id=999, reply_to_peer_id="channel77"
    )
    chat.message(
        11,
        "Ann Lee",
        [
            {"type": "mention_name", "text": "Bob", "user_id": 12},
            " and ",
            {"type": "text_link", "text": "map", "href": "https://m.example"},
        ],
    )
    chat.service(11, "Ann Lee", "pin_message", message_id=2)
    chat.service(11, "Ann Lee", "edit_group_title", title="Hiking Club")
    chat.service(13, "Cat Ng", "remove_members", members=["Cat Ng"])
    chat.service(11, "Ann Lee", "remove_members", members=["Dan"])
    chat.service(11, "Ann Lee", "invite_members", members=["Eve Stranger"])
    return chat
