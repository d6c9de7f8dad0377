"""The web pages: the chat list and a chat's page, plus their scripts and plotly.js.

Pages carry no data: their scripts call the JSON API with the admin token the person typed
in (kept in ``sessionStorage`` for the tab's life, sent as ``X-Admin-Token``). plotly.js is
served from the plotly wheel, so nothing is loaded from a CDN. Every page is sent with a
Content-Security-Policy that allows scripts from this origin only.
"""

from importlib.resources import files
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

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


def _page(request: Request, services: ServicesDep, name: str, **context: object) -> HTMLResponse:
    token_required = services.settings.admin_api_token is not None
    return TEMPLATES.TemplateResponse(
        request, name, {"token_required": token_required, **context}, headers=SECURITY_HEADERS
    )


@router.get("/")
async def chat_list(request: Request, services: ServicesDep) -> HTMLResponse:
    return _page(request, services, "chats.html")


@router.get("/chats/{chat_id}")
async def chat_page(
    request: Request, services: ServicesDep, chat_id: Annotated[int, PathParam()]
) -> HTMLResponse:
    return _page(request, services, "chat.html", chat_id=chat_id)


@router.get("/vendor/plotly.min.js")
async def plotly_js() -> FileResponse:
    return FileResponse(
        PLOTLY_JS, media_type="text/javascript", headers={"Cache-Control": "max-age=86400"}
    )
