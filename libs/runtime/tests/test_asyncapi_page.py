"""A service's ``/asyncapi`` page and ``/asyncapi.json``: the document with the publications
its contract declares, and a page that loads nothing from another host."""

import re

import httpx
from prometheus_client import CollectorRegistry

from tally.infra.settings import CommonSettings
from tally.runtime import asyncapi_page
from tally.runtime.broker import create_app, create_broker


async def _get(path: str) -> httpx.Response:
    settings = CommonSettings(subject_prefix="pagetest")
    registry = CollectorRegistry()
    app = create_app(create_broker(settings, service="nl2sql"), settings, registry=registry)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        return await client.get(path)


async def test_the_document_lists_what_the_service_publishes() -> None:
    """nl2sql's document has its declared publishers, on its prefix, with the message model."""
    document = (await _get("/asyncapi.json")).json()
    channel = document["channels"]["nl2sql:sql_proposed"]
    assert channel["address"] == "pagetest.sql.proposed"
    assert "SqlProposed" in document["components"]["schemas"]
    assert document["operations"]["nl2sql:sql_proposed"]["action"] == "send"


async def test_the_page_is_self_contained() -> None:
    """/asyncapi is HTML naming the channels and schemas, with no script, stylesheet or link
    to another host (FastStream's page loads unpkg.com)."""
    response = await _get("/asyncapi")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "pagetest.plans.ready" in page and 'id="schema-QueryPlanned"' in page
    assert "<script" not in page
    assert re.findall(r'(?:src|href)="(?!#|asyncapi\.json)[^"]*"', page) == []
    assert "unpkg" not in page and "https://" not in page


def test_text_from_the_document_is_escaped() -> None:
    """A description holding markup is shown as text."""
    document = {
        "info": {"title": "t<b>", "version": "1", "description": "<script>x</script>"},
        "channels": {"c": {"address": "a.b", "description": "<i>", "messages": {}}},
    }
    page = asyncapi_page.render(document)
    assert "<script>x" not in page and "&lt;script&gt;" in page and "<i>" not in page
