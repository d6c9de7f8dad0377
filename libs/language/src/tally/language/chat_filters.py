"""What a chat question filters on, from what Tally already stores of each message: who sent
it (one person by @username or name, or everyone but bots), whether it has links, hashtags or
mentions, and its type (photos, voice messages, stickers...).

"how many messages did Anna write this week?", "how many messages with hashtags were posted
yesterday?", "сколько человек писали вчера, не считая ботов?", "сколько фото прислал @bob?".
A name is matched by the executor against the chat's members (first name, full name or
username); it refuses the question when no one, or more than one person, has it.
"""

import re
from dataclasses import dataclass
from typing import Final

from tally.language import morphology
from tally.language.scan import Scan, Unclear
from tally.semantic.plan import Filter, Op, Sender

_USERNAME: Final = re.compile(r"(?<![\w@])@(?P<name>[A-Za-z][A-Za-z0-9_]{3,31})\b")
_NAME_EN: Final = r"(?P<name>[A-Z][a-z]{1,30})"
_NAME_RU: Final = r"(?P<name>[А-ЯЁ][а-яё]{1,30})"
_WROTE_EN: Final = r"(?:write|wrote|written|send|sent|post|posted)"
_WROTE_RU: Final = r"(?:wrote|написал\w*|отправил\w*|прислал\w*|писал\w*|запостил\w*)"
"""Russian verbs of writing arrive as "wrote" (:mod:`lexicon` reads them by lemma)."""
_NAMES: Final = (
    re.compile(rf"\b(?:did|has|have|does|had)\s+{_NAME_EN}\s+{_WROTE_EN}\b"),
    re.compile(rf"\b(?:by|from)\s+{_NAME_EN}\b"),
    re.compile(rf"\b{_NAME_EN}'s\b"),
    re.compile(rf"\b{_NAME_RU}\s+{_WROTE_RU}"),
    re.compile(rf"\b{_WROTE_RU}\s+{_NAME_RU}\b"),
    re.compile(rf"\b(?:от|у)\s+{_NAME_RU}\b"),
)
_BOTS: Final = re.compile(
    r"\b(?:excluding|without|not\s+counting|except(?:\s+for)?|apart\s+from|other\s+than"
    r"|не\s+считая|без\s+учета|без\s+учёта|без|кроме|исключая|за\s+исключением)\s+(?:the\s+)?"
    r"(?:bots?|ботов|бота|боты)\b",
    re.IGNORECASE,
)
_CONTENT: Final = (
    ("links", r"links?|urls?|ссылк\w*|ссылок"),
    ("hashtags", r"hashtags?|хэштег\w*|хештег\w*"),
    ("mentions", r"mentions?|упоминани\w*"),
)
_HAS: Final = (
    r"\b(?:with|having|containing|that\s+contain(?:ed|s)?|that\s+ha(?:ve|d)|which\s+ha(?:ve|d)"
    r"|с|со|содержащи\w*|где\s+есть|в\s+которых\s+есть)\s+(?:a\s+|an\s+|any\s+|some\s+)?"
)
_TYPES: Final = (
    ("video_note", r"video\s+notes?|кружоч\w*|кружк\w*|видеосообщени\w*"),
    ("voice", r"voice\s+(?:messages?|notes?)|voices?|голосов\w*(?:\s+сообщени\w*)?|войс\w*"),
    ("photo", r"photos?|pictures?|pics?|фото(?:графи\w*)?|фотк\w*|картинк\w*"),
    ("sticker", r"stickers?|стикер\w*"),
    ("document", r"documents?|files?|документ\w*|файл\w*"),
    ("poll", r"polls?|опрос\w*"),
    ("animation", r"gifs?|гифк\w*|гиф\w*|animations?"),
    ("audio", r"audio(?:\s+files?)?|songs?|music|аудио\w*|песн\w*|музык\w*"),
)


@dataclass(frozen=True, slots=True)
class ChatFilters:
    """What a chat question's rows must be: filters on the message columns, and the sender."""

    filters: tuple[Filter, ...] = ()
    sender: Sender | None = None
    typed: bool = False
    """True when a message type was named ("how many photos"): messages are what is counted."""


def _russian_name(word: str) -> str:
    """A Russian first name in its dictionary form ("Анны" -> "анна") when pymorphy3 reads
    it as a name; else the word as written, lower case."""
    lemmas = morphology.name_lemmas(word)
    return next(iter(lemmas)) if len(lemmas) == 1 else word.lower()


def _take_name(scan: Scan) -> str | None:
    found = [match["name"] for match in scan.take(_USERNAME)]
    for pattern in _NAMES:
        for match in pattern.finditer(scan.text):
            name = match["name"]
            found.append(_russian_name(name) if re.match(r"[А-ЯЁ]", name) else name.lower())
            start, end = match.span("name")
            scan.blank(start, end)
    names = set(found)
    if len(names) > 1:
        raise Unclear("unknown")
    return names.pop() if names else None


def _take_content(scan: Scan) -> list[Filter]:
    filters = []
    for column, words in _CONTENT:
        if scan.take(re.compile(rf"{_HAS}(?:{words})\b", re.IGNORECASE)):
            filters.append(Filter(column=column, op=Op.GT, value=0))
    return filters


def _take_type(scan: Scan) -> Filter | None:
    found = [
        kind
        for kind, words in _TYPES
        if scan.take(re.compile(rf"\b(?:{_HAS})?(?:{words})\b", re.IGNORECASE))
    ]
    if len(found) > 1:
        raise Unclear("unknown")
    return Filter(column="message_type", op=Op.EQ, value=found[0]) if found else None


def take_chat_filters(scan: Scan) -> ChatFilters:
    """The sender and content filters of a chat question, taken from ``scan``. Raises
    :class:`Unclear` ("unknown") for two different names or two message types."""
    bots = not scan.take(_BOTS)
    name = _take_name(scan)
    filters = _take_content(scan)
    kind = _take_type(scan)
    if kind is not None:
        filters.append(kind)
    sender = Sender(name=name, bots=bots) if name or not bots else None
    return ChatFilters(tuple(filters), sender, typed=kind is not None)
