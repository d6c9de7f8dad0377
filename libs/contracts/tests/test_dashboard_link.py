"""Signed dashboard links: a token opens one chat for one user until its expiry, and any
change to it, another secret or a later time is refused with a reason."""

import base64
from datetime import UTC, datetime, timedelta

import pytest

from tally.contracts.dashboard_link import (
    MIN_SECRET_LENGTH,
    ExpiredLinkError,
    ForgedLinkError,
    Grant,
    LinkError,
    MalformedLinkError,
    page_url,
    sign,
    verify,
)

SECRET = "s" * MIN_SECRET_LENGTH
OTHER_SECRET = "t" * MIN_SECRET_LENGTH
CHAT, USER = -1001234567890, 424242
EXPIRES = datetime(2026, 12, 5, 7, 30, tzinfo=UTC)
BEFORE = EXPIRES - timedelta(minutes=10)


def _raw(token: str) -> bytearray:
    return bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def _token(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_signed_link_verifies_to_its_grant() -> None:
    """verify gives back the chat, the user and the expiry sign was given."""
    token = sign(CHAT, USER, EXPIRES, SECRET)
    assert verify(token, SECRET, BEFORE) == Grant(chat_id=CHAT, user_id=USER, expires_at=EXPIRES)


def test_a_token_is_url_safe_and_short() -> None:
    """No character needs escaping in a query string, and it fits a Telegram message."""
    token = sign(CHAT, USER, EXPIRES, SECRET)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(token) == 76


@pytest.mark.parametrize(
    ("offset", "name"),
    [
        (0, "version"),
        (1, "chat_id"),
        (8, "chat_id"),
        (9, "user_id"),
        (17, "expires_at"),
        (24, "expires_at"),
        (25, "mac"),
        (56, "mac"),
    ],
)
def test_changing_any_byte_is_refused(offset: int, name: str) -> None:
    """Flipping a bit of the version, the chat, the user, the expiry or the MAC is refused
    (an unknown version as malformed, anything else as forged)."""
    raw = _raw(sign(CHAT, USER, EXPIRES, SECRET))
    raw[offset] ^= 0x01
    expected = MalformedLinkError if name == "version" else ForgedLinkError
    with pytest.raises(expected):
        verify(_token(bytes(raw)), SECRET, BEFORE)


@pytest.mark.parametrize(
    "resigned",
    [
        lambda: sign(CHAT + 1, USER, EXPIRES, OTHER_SECRET),
        lambda: sign(CHAT, USER + 1, EXPIRES, OTHER_SECRET),
        lambda: sign(CHAT, USER, EXPIRES + timedelta(days=1), OTHER_SECRET),
    ],
)
def test_fields_from_another_token_do_not_carry_its_signature(resigned: object) -> None:
    """A token's fields with another token's MAC (a splice) is refused as forged."""
    assert callable(resigned)
    fields = _raw(resigned())[:25]
    mac = _raw(sign(CHAT, USER, EXPIRES, SECRET))[25:]
    with pytest.raises(ForgedLinkError):
        verify(_token(bytes(fields + mac)), SECRET, BEFORE)


def test_another_secret_is_refused() -> None:
    with pytest.raises(ForgedLinkError, match="signature"):
        verify(sign(CHAT, USER, EXPIRES, SECRET), OTHER_SECRET, BEFORE)


def test_the_expiry_is_exclusive() -> None:
    """A link is good one second before expires_at, refused at it and after it."""
    token = sign(CHAT, USER, EXPIRES, SECRET)
    assert verify(token, SECRET, EXPIRES - timedelta(seconds=1)).chat_id == CHAT
    assert verify(token, SECRET, EXPIRES - timedelta(microseconds=1)).chat_id == CHAT
    for now in (EXPIRES, EXPIRES + timedelta(seconds=1), EXPIRES + timedelta(days=365)):
        with pytest.raises(ExpiredLinkError, match="expired"):
            verify(token, SECRET, now)


def test_a_forged_expired_token_says_forged() -> None:
    """The signature is checked before the expiry: a forger learns nothing of the time."""
    token = sign(CHAT, USER, EXPIRES, OTHER_SECRET)
    with pytest.raises(ForgedLinkError):
        verify(token, SECRET, EXPIRES + timedelta(days=1))


def test_fractions_of_a_second_are_dropped() -> None:
    expires = EXPIRES + timedelta(microseconds=999_999)
    assert verify(sign(CHAT, USER, expires, SECRET), SECRET, BEFORE).expires_at == EXPIRES


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "not a token at all!",
        "A" * 76 + "==",
        "A" * 75,
        "A" * 80,
        "A" * 10_000,
        "Zm9v.YmFy",
        "AAAA+AAA/AAA",
    ],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    """Anything but URL-safe base64 of exactly one token's length is malformed."""
    with pytest.raises(MalformedLinkError):
        verify(token, SECRET, BEFORE)


def test_a_truncated_or_extended_token_is_malformed() -> None:
    token = sign(CHAT, USER, EXPIRES, SECRET)
    for changed in (token[:-4], token + "AAAA"):
        with pytest.raises(MalformedLinkError):
            verify(changed, SECRET, BEFORE)


def test_every_refusal_is_a_user_facing_link_error() -> None:
    """Each refusal carries a sentence fit to show the person who opened the link."""
    with pytest.raises(LinkError) as refused:
        verify("x", SECRET, BEFORE)
    assert refused.value.message == "This is not a dashboard link."


@pytest.mark.parametrize(
    ("chat_id", "user_id", "expires_at", "secret", "reason"),
    [
        (CHAT, USER, datetime(2026, 12, 5, 7, 30), SECRET, "timezone-aware"),
        (CHAT, USER, EXPIRES, "short", "at least 32"),
        (2**63, USER, EXPIRES, SECRET, "out of range"),
        (CHAT, -(2**63) - 1, EXPIRES, SECRET, "out of range"),
    ],
)
def test_sign_refuses_what_it_cannot_sign(
    chat_id: int, user_id: int, expires_at: datetime, secret: str, reason: str
) -> None:
    with pytest.raises(ValueError, match=reason):
        sign(chat_id, user_id, expires_at, secret)


def test_the_page_url_carries_the_token_for_the_chat() -> None:
    token = sign(CHAT, USER, EXPIRES, SECRET)
    for base in ("https://tally.example.org", "https://tally.example.org/"):
        assert page_url(base, CHAT, token) == (
            f"https://tally.example.org/chats/{CHAT}?link={token}"
        )
