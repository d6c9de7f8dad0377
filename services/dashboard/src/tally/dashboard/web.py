"""The web pages: the chat list and a chat's page, plus their scripts and plotly.js.

Pages carry no data: their scripts call the JSON API with the admin token the person typed
in (kept in ``sessionStorage`` for the tab's life, sent as ``X-Admin-Token``), or with the
signed link a chat admin opened: ``/chats/{chat_id}?link=<token>`` checks it and sets it as
the ``tally_chat_link`` cookie (HttpOnly, SameSite=Strict, Secure over https, path ``/``,
gone when the link expires; that page is not cached), which the page's API calls then
carry. A link for another chat, or a refused one, gets a page saying why (403 or 401) and
no cookie. plotly.js is served from the plotly wheel, so nothing is loaded from a CDN. Every
page is sent with a Content-Security-Policy that allows scripts from this origin only.
"""

from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Cookie, HTTPException, Query, Request, status
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from tally.contracts.dashboard_link import LINK_QUERY, Grant
from tally.dashboard.auth import LINK_COOKIE, OTHER_CHAT, covers, read_link
from tally.dashboard.deps import ServicesDep

HERE = Path(__file__).parent
STATIC = HERE / "static"
PLOTLY_JS = Path(str(files("plotly").joinpath("package_data", "plotly.min.js")))
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    services: ServicesDep,
    name: str,
    status_code: int = status.HTTP_200_OK,
    **context: object,
) -> HTMLResponse:
    token_required = services.settings.admin_api_token is not None
    return TEMPLATES.TemplateResponse(
        request,
        name,
        {"token_required": token_required, "chat_link": False, **context},
        status_code=status_code,
        headers=SECURITY_HEADERS,
    )


def _grant(services: ServicesDep, chat_id: int, token: str) -> Grant:
    """The grant of ``token`` for ``chat_id``; raises 401 (refused) or 403 (another chat)."""
    grant = read_link(services.settings, token, now=datetime.now(UTC))
    if not covers(grant, chat_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=OTHER_CHAT)
    return grant


def _set_link_cookie(page: HTMLResponse, request: Request, token: str, grant: Grant) -> None:
    page.headers["Cache-Control"] = "no-store"
    seconds = int((grant.expires_at - datetime.now(UTC)).total_seconds())
    page.set_cookie(
        LINK_COOKIE,
        token,
        max_age=max(seconds, 1),
        path="/",
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="strict",
    )


def _linked(services: ServicesDep, chat_id: int, cookie: str | None) -> bool:
    """True when the request's link cookie (if any) is good for ``chat_id``."""
    if cookie is None or services.settings.dashboard_link_secret is None:
        return False
    try:
        _grant(services, chat_id, cookie)
    except HTTPException:
        return False
    return True


@router.get("/")
async def chat_list(request: Request, services: ServicesDep) -> HTMLResponse:
    return _page(request, services, "chats.html")


@router.get("/chats/{chat_id}")
async def chat_page(
    request: Request,
    services: ServicesDep,
    chat_id: Annotated[int, PathParam()],
    link: Annotated[str | None, Query(alias=LINK_QUERY, max_length=256)] = None,
    cookie: Annotated[str | None, Cookie(alias=LINK_COOKIE)] = None,
) -> HTMLResponse:
    if link is None:
        linked = _linked(services, chat_id, cookie)
        return _page(request, services, "chat.html", chat_id=chat_id, chat_link=linked)
    try:
        grant = _grant(services, chat_id, link)
    except HTTPException as refused:
        return _page(request, services, "refused.html", refused.status_code, reason=refused.detail)
    page = _page(request, services, "chat.html", chat_id=chat_id, chat_link=True)
    _set_link_cookie(page, request, link, grant)
    return page


@router.get("/vendor/plotly.min.js")
async def plotly_js() -> FileResponse:
    return FileResponse(
        PLOTLY_JS, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"}
    )
