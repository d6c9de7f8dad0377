"""Which language a question is in: Russian or English."""

import re

from tally.common.events import Language

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)


def detect_language(text: str, hint: str | None = None) -> Language:
    """"ru" when the text has Cyrillic letters, or has no Latin letters and ``hint``
    (a Telegram ``language_code`` such as "ru-RU") is Russian; otherwise "en"."""
    if _CYRILLIC.search(text):
        return "ru"
    if hint and hint.lower().startswith("ru") and not _LATIN.search(text):
        return "ru"
    return "en"
