"""The admin token check every API route passes.

With ``ADMIN_API_TOKEN`` set, a request must carry it in ``X-Admin-Token``; the two are
compared with :func:`hmac.compare_digest`, in time that does not depend on where they differ.
Without it (the dashboard then listens on 127.0.0.1 only), requests from the loopback address
pass and any other is refused.
"""

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader

from tally.dashboard.deps import ServicesDep

TOKEN_HEADER = "X-Admin-Token"
LOOPBACK = frozenset({"127.0.0.1", "::1"})
_header = APIKeyHeader(name=TOKEN_HEADER, auto_error=False, description="ADMIN_API_TOKEN")


def token_matches(given: str, expected: str) -> bool:
    """True when ``given`` is ``expected``, compared in constant time."""
    return hmac.compare_digest(given.encode(), expected.encode())


def _refuse(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail=detail)


async def require_admin(
    request: Request, services: ServicesDep, token: Annotated[str | None, Depends(_header)]
) -> None:
    """Pass a request with the right token (or, with no token configured, from loopback);
    raise 401 otherwise."""
    settings = services.settings
    if settings.admin_api_token is None:
        if request.client is None or request.client.host not in LOOPBACK:
            raise _refuse("Without ADMIN_API_TOKEN the dashboard answers localhost only.")
        return
    if token is None or not token_matches(token, settings.admin_api_token.get_secret_value()):
        raise _refuse(f"Missing or wrong {TOKEN_HEADER}.")
