"""How a chat message's text is measured, the same for live capture and history import.

A text's length is in characters (Unicode code points); a word is a whitespace-separated
token with at least one letter or digit (so "—" and "👍" are not words). Entities are named
as the Bot API names them (``MessageEntity.type``): links are ``url`` and ``text_link``,
mentions ``mention`` and ``text_mention``, hashtags ``hashtag``. Text travels only when the
chat's settings keep it (:class:`tally.contracts.chat_events.ChatSettings.store_text`), cut
to :data:`~tally.contracts.chat_events.MAX_TEXT`.
"""

from collections.abc import Iterable

from tally.contracts.chat_events import MAX_TEXT

LINKS = frozenset({"url", "text_link"})
MENTIONS = frozenset({"mention", "text_mention"})
HASHTAGS = frozenset({"hashtag"})


def word_count(text: str) -> int:
    """Whitespace-separated tokens of ``text`` holding at least one letter or digit."""
    return sum(1 for token in text.split() if any(char.isalnum() for char in token))


def entity_counts(kinds: Iterable[str]) -> tuple[int, int, int]:
    """(links, mentions, hashtags) among entity ``kinds`` (Bot API entity type names)."""
    links = mentions = hashtags = 0
    for kind in kinds:
        links += kind in LINKS
        mentions += kind in MENTIONS
        hashtags += kind in HASHTAGS
    return links, mentions, hashtags


def kept_text(text: str, store_text: bool) -> str | None:
    """``text`` as it travels: None unless ``store_text`` and non-empty, else cut to MAX_TEXT."""
    return text[:MAX_TEXT] if store_text and text else None
