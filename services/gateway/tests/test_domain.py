"""The gateway's pure logic: language, throttling, first contact, texts (alerts elsewhere)."""

import pytest

from tally.contracts.language import detect_language
from tally.gateway.domain.memory import SeenUsers, ThrottleTimes, Verdict
from tally.gateway.domain.texts import EXAMPLES, help_text, say


@pytest.mark.parametrize(
    ("text", "hint", "expected"),
    [
        ("Сколько видео?", None, "ru"),
        ("Сколько videos?", "en", "ru"),
        ("How many videos?", "ru", "en"),
        ("2025?", "ru-RU", "ru"),
        ("2025?", "RU", "ru"),
        ("2025?", "en", "en"),
        ("2025?", None, "en"),
        ("", "uk", "en"),
    ],
)
def test_detect_language(text: str, hint: str | None, expected: str) -> None:
    """Cyrillic wins; a Russian client decides only when the text has no Latin letters."""
    assert detect_language(text, hint) == expected


def judged(interval_s: float, times: list[float]) -> list[Verdict]:
    """The verdicts for one user's messages at ``times``, each judged on the times the last
    one left."""
    state, verdicts = ThrottleTimes(), []
    for now in times:
        verdict, state = state.judge(now, interval_s)
        verdicts.append(verdict)
    return verdicts


def test_throttle_allows_then_warns_once_then_drops() -> None:
    """Within one interval: the first message passes, the second warns, the others drop."""
    assert judged(1.0, [0.0, 0.1, 0.2, 0.9]) == [
        Verdict.ALLOW,
        Verdict.WARN,
        Verdict.DROP,
        Verdict.DROP,
    ]


def test_throttle_allows_again_after_the_interval() -> None:
    """The interval counts from the last handled message, not from the last dropped one."""
    assert judged(1.0, [0.0, 1.0, 1.5, 1.9, 2.0]) == [
        Verdict.ALLOW,
        Verdict.ALLOW,
        Verdict.WARN,
        Verdict.DROP,
        Verdict.ALLOW,
    ]


def test_settled_times_drop_without_looking_further() -> None:
    """Times that judge DROP say so (``settled``); times that would allow or warn do not."""
    after_warning = ThrottleTimes(allowed_at=0.0, warned_at=0.5)
    assert after_warning.settled(0.9, 1.0)
    assert not after_warning.settled(1.0, 1.0)
    assert not ThrottleTimes(allowed_at=0.0).settled(0.5, 1.0)


def test_seen_users_reports_first_contact_once_within_its_bound() -> None:
    """A user is new once; beyond ``max_users`` the least recently seen is forgotten."""
    seen = SeenUsers(max_users=2)

    assert [seen.first_contact(user) for user in (1, 2, 1, 3)] == [True, True, False, True]
    assert seen.first_contact(1) is False
    assert seen.first_contact(2) is True


@pytest.mark.parametrize("language", ["en", "ru"])
def test_help_lists_four_examples(language: str) -> None:
    """The help text names Tally and carries the four examples, one per line, and tells a
    group's admin how to import its history, with the size limit."""
    text = help_text(language)  # type: ignore[arg-type]

    assert "Tally" in text
    assert "result.json" in text and "20" in text
    assert len(EXAMPLES[language]) == 4  # type: ignore[index]
    assert all(f"• {example}" in text for example in EXAMPLES[language])  # type: ignore[index]


def test_hints_are_one_line() -> None:
    """Every hint fits on one line, in both languages."""
    keys = ("not_text", "unknown_command", "too_long", "slow_down")
    assert all("\n" not in say(key, language) for key in keys for language in ("en", "ru"))
