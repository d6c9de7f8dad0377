"""Which language a question is in: the text's script first, the Telegram client's second."""

import re

from tally.contracts.events import Language

_CYRILLIC = re.compile(r"[\u0400-\u04FF]")
_LATIN = re.compile(r"[A-Za-z]")


def detect_language(text: str, hint: str | None = None) -> Language:
    """``"ru"`` or ``"en"`` for a message ``text`` sent by a client set to language ``hint``.

    Cyrillic letters in ``text`` mean Russian; else a ``hint`` (Telegram's ``language_code``,
    e.g. ``"ru"``, ``"ru-RU"``) starting with ``ru`` means Russian when ``text`` has no Latin
    letters (digits or emoji only); anything else is English.
    """
    if _CYRILLIC.search(text):
        return "ru"
    if hint and hint.lower().startswith("ru") and not _LATIN.search(text):
        return "ru"
    return "en"
