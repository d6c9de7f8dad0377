"""Who is asking: the operator (the admin token) or a chat admin (a signed link).

With ``ADMIN_API_TOKEN`` set, the operator sends it in ``X-Admin-Token`` and may use every
route; the two are compared with :func:`hmac.compare_digest`, in time that does not depend
on where they differ. Without it (the dashboard then listens on 127.0.0.1 only), requests
from the loopback address are the operator's.

A chat admin brings a signed link (:mod:`tally.contracts.dashboard_link`, checked with
``DASHBOARD_LINK_SECRET``) in the ``tally_chat_link`` cookie, which opening the link's page
sets, or in ``X-Chat-Link``. It opens the routes of its chat, the ones whose path has that
``{chat_id}``, and no other: another chat's routes and the chat list are a 403. A missing,
malformed, forged or expired link is a 401 saying which.
"""

import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyCookie, APIKeyHeader

from tally.contracts.dashboard_link import Grant, LinkError, verify
from tally.dashboard.config import DashboardSettings
from tally.dashboard.deps import ServicesDep

TOKEN_HEADER = "X-Admin-Token"
LINK_HEADER = "X-Chat-Link"
LINK_COOKIE = "tally_chat_link"
LOOPBACK = frozenset({"127.0.0.1", "::1"})
LINKS_OFF = "Signed chat links are off here: the dashboard has no DASHBOARD_LINK_SECRET."
OTHER_CHAT = "This link opens only the page and statistics of the chat it was made for."
_token = APIKeyHeader(name=TOKEN_HEADER, auto_error=False, description="ADMIN_API_TOKEN")
_link_header = APIKeyHeader(
    name=LINK_HEADER,
    auto_error=False,
    scheme_name="ChatLinkHeader",
    description="a signed chat link (from /dashboard in the group): that chat only",
)
_link_cookie = APIKeyCookie(
    name=LINK_COOKIE,
    auto_error=False,
    scheme_name="ChatLinkCookie",
    description="set by opening /chats/{chat_id}?link=...: that chat only",
)


@dataclass(frozen=True, slots=True)
class Operator:
    """The dashboard's operator: every chat, the chat list, every setting."""


Caller = Operator | Grant
"""Who a request comes from."""


def token_matches(given: str, expected: str) -> bool:
    """True when ``given`` is ``expected``, compared in constant time."""
    return hmac.compare_digest(given.encode(), expected.encode())


def _refuse(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail)


def read_link(settings: DashboardSettings, token: str, *, now: datetime) -> Grant:
    """The grant ``token`` carries; raises a 401 HTTPException saying why it is refused
    (links off, malformed, forged, expired)."""
    if settings.dashboard_link_secret is None:
        raise _refuse(LINKS_OFF)
    try:
        return verify(token, settings.dashboard_link_secret.get_secret_value(), now)
    except LinkError as error:
        raise _refuse(error.message) from error


def covers(grant: Grant, chat_id: object) -> bool:
    """True when ``grant`` is for chat ``chat_id`` (a path parameter, as text or int)."""
    try:
        return int(str(chat_id)) == grant.chat_id
    except ValueError:
        return False


def _operator(request: Request, settings: DashboardSettings, token: str | None) -> bool:
    """True for the operator; raises 401 for a wrong admin token; False when a link must
    decide."""
    if settings.admin_api_token is None:
        return request.client is not None and request.client.host in LOOPBACK
    if token is None:
        return False
    if not token_matches(token, settings.admin_api_token.get_secret_value()):
        raise _refuse(f"Missing or wrong {TOKEN_HEADER}.")
    return True


async def authorize(
    request: Request,
    services: ServicesDep,
    token: Annotated[str | None, Depends(_token)],
    link_header: Annotated[str | None, Depends(_link_header)],
    link_cookie: Annotated[str | None, Depends(_link_cookie)],
) -> Caller:
    """The operator, or the grant of a link for the chat in the path; raises 401 (no or bad
    credentials) or 403 (a link for another chat, or a route that is not one chat's)."""
    settings = services.settings
    if _operator(request, settings, token):
        return Operator()
    link = link_header or link_cookie
    if link is None:
        if settings.admin_api_token is None:
            raise _refuse("Without ADMIN_API_TOKEN the dashboard answers localhost only.")
        raise _refuse(f"Missing or wrong {TOKEN_HEADER}.")
    grant = read_link(settings, link, now=datetime.now(UTC))
    if not covers(grant, request.path_params.get("chat_id")):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=OTHER_CHAT)
    return grant


CallerDep = Annotated[Caller, Depends(authorize)]
