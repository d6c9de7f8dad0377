"""Signed dashboard links: a short-lived grant to one chat's dashboard page for one admin.

The gateway answers ``/dashboard`` in a group by sending the asking admin, in a private
message, :func:`page_url`: ``{DASHBOARD_PUBLIC_URL}/chats/{chat_id}?link={token}`` with
``token`` from :func:`sign`; the dashboard checks it with :func:`verify` and then answers
that chat's page and API (its statistics, its settings) and nothing else.

A token is URL-safe base64 (no padding) of 57 bytes::

    version (1 byte, 1) | chat_id (int64) | user_id (int64) | expires_at (int64, Unix s, UTC)
    | HMAC-SHA256(secret, CONTEXT + the first 25 bytes) (32 bytes)

big-endian. The MAC covers the version byte, and :data:`CONTEXT` keeps a secret that is
(wrongly) reused elsewhere from signing anything but these links. The secret is
``DASHBOARD_LINK_SECRET``, shared by the gateway and the dashboard, at least
:data:`MIN_SECRET_LENGTH` characters (RFC 2104 section 3: a key shorter than the hash's
output, 32 bytes for SHA-256, weakens the MAC). Without it no link is signed or accepted.

A link is good for :data:`DEFAULT_TTL`, 15 minutes (the signer's setting,
``DASHBOARD_LINK_TTL_S`` in the gateway): long enough to open it from Telegram, short enough
that a forwarded or leaked message soon opens nothing. The dashboard's cookie lives no longer
than the link, and the admin's rights are not checked again until a new link is asked for.
"""

import base64
import binascii
import hashlib
import hmac
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tally.infra.errors import UserFacingError

VERSION = 1
LINK_QUERY = "link"
"""The query parameter of a chat page that carries the token."""
CONTEXT = b"tally.dashboard-link\x00"
DEFAULT_TTL = timedelta(minutes=15)
MIN_SECRET_LENGTH = 32
_FIELDS = struct.Struct(">Bqqq")
_MAC_LENGTH = hashlib.sha256().digest_size
_LENGTH = _FIELDS.size + _MAC_LENGTH


class LinkError(UserFacingError):
    """A dashboard link was refused."""


class MalformedLinkError(LinkError):
    """The token is not a dashboard link of a known version."""


class ForgedLinkError(LinkError):
    """The token's signature does not match: altered, or signed with another secret."""


class ExpiredLinkError(LinkError):
    """The link was good until a time now past."""


@dataclass(frozen=True, slots=True)
class Grant:
    """What a valid link allows: ``user_id`` (a Telegram user) may use chat ``chat_id``'s
    dashboard until ``expires_at`` (UTC, whole seconds, exclusive)."""

    chat_id: int
    user_id: int
    expires_at: datetime


def _mac(fields: bytes, secret: str) -> bytes:
    return hmac.new(secret.encode(), CONTEXT + fields, hashlib.sha256).digest()


def sign(chat_id: int, user_id: int, expires_at: datetime, secret: str) -> str:
    """The token granting ``user_id`` chat ``chat_id``'s dashboard until ``expires_at`` (an
    aware datetime; fractions of a second are dropped). Raises ValueError for a naive
    ``expires_at``, an id outside int64 or a secret under MIN_SECRET_LENGTH characters."""
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    if len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"the link secret must have at least {MIN_SECRET_LENGTH} characters")
    try:
        fields = _FIELDS.pack(VERSION, chat_id, user_id, int(expires_at.timestamp()))
    except struct.error as error:
        raise ValueError(f"an id or the expiry is out of range: {error}") from error
    return base64.urlsafe_b64encode(fields + _mac(fields, secret)).rstrip(b"=").decode()


def _decode(token: str) -> bytes:
    if len(token) > 2 * _LENGTH:
        raise MalformedLinkError("This is not a dashboard link.")
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as error:
        raise MalformedLinkError("This is not a dashboard link.") from error
    if len(raw) != _LENGTH:
        raise MalformedLinkError("This is not a dashboard link.")
    if raw[0] != VERSION:
        raise MalformedLinkError("This dashboard link is of an unknown version.")
    return raw


def verify(token: str, secret: str, now: datetime) -> Grant:
    """The grant ``token`` carries, when it was signed with ``secret`` and ``now`` (aware) is
    before its expiry. Raises MalformedLinkError (not base64 of the right length, unknown
    version), ForgedLinkError (signature mismatch, compared in constant time), ExpiredLinkError
    (``now >= expires_at``), in that order: an unsigned token learns nothing of its expiry."""
    raw = _decode(token)
    fields, mac = raw[: _FIELDS.size], raw[_FIELDS.size :]
    if not hmac.compare_digest(mac, _mac(fields, secret)):
        raise ForgedLinkError("This dashboard link is not valid: its signature does not match.")
    _, chat_id, user_id, expires = _FIELDS.unpack(fields)
    try:
        expires_at = datetime.fromtimestamp(expires, UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise MalformedLinkError("This dashboard link's expiry is out of range.") from error
    if now >= expires_at:
        raise ExpiredLinkError(
            "This dashboard link has expired: send /dashboard in the group for a new one."
        )
    return Grant(chat_id=chat_id, user_id=user_id, expires_at=expires_at)


def page_url(dashboard_url: str, chat_id: int, token: str) -> str:
    """The address of chat ``chat_id``'s page carrying ``token``:
    ``{dashboard_url}/chats/{chat_id}?link={token}`` (a trailing ``/`` of ``dashboard_url``,
    e.g. ``https://tally.example.org``, is dropped; the token needs no escaping)."""
    return f"{dashboard_url.rstrip('/')}/chats/{chat_id}?{LINK_QUERY}={token}"
