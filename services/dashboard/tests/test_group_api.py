"""The group report routes answer what the chat store's reports answer for the same chat and
period (the figures Telegram shows), on the conversation of tests/factories/group_chat.py
written through ingest's ChatWriter; a few figures are also counted here from its events."""

from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from tally.chatstore import read
from tally.chatstore.read import Period
from tally.contracts.chat_events import ChatEvent, MemberChanged, MessagePosted
from tally.dashboard.auth import LINK_HEADER, OTHER_CHAT
from tests.factories.group_chat import (
    ANN,
    ELSEWHERE,
    GROUP,
    USER_IDS,
    WEEK_END,
    WEEK_START,
)

from .conftest import GROUP_CHATS as CHATS
from .conftest import TOKEN
from .test_chat_links import link

PERIOD = {"from": WEEK_START.isoformat(), "to": WEEK_END.isoformat()}
Report = Callable[[Any, int, Period], Awaitable[BaseModel]]


@pytest.fixture
async def operator(
    anonymous: httpx.AsyncClient, conversation: dict[int, list[ChatEvent]]
) -> httpx.AsyncClient:
    anonymous.headers["X-Admin-Token"] = TOKEN
    return anonymous


def _period(chat_id: int) -> Period:
    return Period(WEEK_START, WEEK_END, ZoneInfo(CHATS[chat_id]))


async def _get(client: httpx.AsyncClient, path: str, **params: Any) -> Any:
    reply = await client.get(path, params={**PERIOD, **params})
    assert reply.status_code == 200, reply.text
    return reply.json()


async def _expected(engine: AsyncEngine, report: Report, chat_id: int) -> Any:
    async with engine.connect() as connection:
        answer = await report(connection, chat_id, _period(chat_id))
    return answer.model_dump(mode="json")


ROUTES: dict[str, Report] = {
    "/content": read.content_breakdown,
    "/reactions": read.reaction_stats,
    "/replies": read.reply_stats,
    "/topics": read.topic_activity,
    "/members/flow": read.member_flow,
    "/words": read.top_words,
}


@pytest.mark.parametrize("chat_id", list(CHATS))
@pytest.mark.parametrize("route", list(ROUTES))
async def test_each_report_is_the_chat_stores(
    operator: httpx.AsyncClient, engine: AsyncEngine, route: str, chat_id: int
) -> None:
    """Each route's body is the chat store's report for the chat and its local week."""
    body = await _get(operator, f"/api/chats/{chat_id}{route}")
    assert body == await _expected(engine, ROUTES[route], chat_id)


@pytest.mark.parametrize("chat_id", list(CHATS))
@pytest.mark.parametrize("by", read.MEASURES)
async def test_each_top_is_the_chat_stores(
    operator: httpx.AsyncClient, engine: AsyncEngine, by: str, chat_id: int
) -> None:
    body = await _get(operator, f"/api/chats/{chat_id}/top", by=by, limit=3)

    async def top(db: Any, chat: int, period: Period) -> BaseModel:
        return await read.top_members(db, chat, period, by, 3)  # type: ignore[arg-type]

    assert body == await _expected(engine, top, chat_id)
    assert len(body["items"]) <= 3


@pytest.mark.parametrize("chat_id", list(CHATS))
@pytest.mark.parametrize("user_id", [*USER_IDS[:4], 1])
async def test_a_members_report_is_the_chat_stores(
    operator: httpx.AsyncClient, engine: AsyncEngine, chat_id: int, user_id: int
) -> None:
    """Known members and a user Tally never saw (all 0) alike."""
    body = await _get(operator, f"/api/chats/{chat_id}/members/{user_id}")

    async def stats(db: Any, chat: int, period: Period) -> BaseModel:
        return await read.member_stats(db, chat, user_id, period)

    assert body == await _expected(engine, stats, chat_id)


def _in_week(events: list[ChatEvent], chat_id: int) -> list[ChatEvent]:
    period = _period(chat_id)
    return [
        e
        for e in events
        if period.start <= e.occurred_at.astimezone(period.tz).date() <= period.end
    ]


async def test_figures_match_the_events(
    operator: httpx.AsyncClient, conversation: dict[int, list[ChatEvent]]
) -> None:
    """Forwards, messages per topic, joins and ANN's invitations, counted from the events."""
    week = _in_week(conversation[GROUP], GROUP)
    posted = [e for e in week if isinstance(e, MessagePosted)]
    joins = [e for e in week if isinstance(e, MemberChanged) and e.change == "join"]
    base = f"/api/chats/{GROUP}"
    content = await _get(operator, f"{base}/content")
    assert content["messages"] == len(posted)
    assert content["forwards"] == sum(e.forwarded for e in posted)
    topics = {
        t["thread_id"]: t["messages"] for t in (await _get(operator, f"{base}/topics"))["topics"]
    }
    assert topics[7] == sum(e.thread_id == 7 for e in posted)
    flow = await _get(operator, f"{base}/members/flow")
    assert flow["joins"] == len(joins)
    invited_by_ann = sum(e.inviter is not None and e.inviter.user_id == ANN.user_id for e in joins)
    assert flow["top_inviters"][0] == {
        "member": {"user_id": ANN.user_id, "username": "ann", "first_name": "Ann",
                   "last_name": None, "label": "@ann"},
        "count": invited_by_ann,
    }  # fmt: skip


async def test_words_of_a_chat_without_text_are_refused_in_the_body(
    operator: httpx.AsyncClient,
) -> None:
    """A chat that does not store text: 200, text_stored false, no words, a refusal."""
    body = await _get(operator, f"/api/chats/{ELSEWHERE}/words")
    assert (body["text_stored"], body["words"]) == (False, {})
    assert "does not store message text" in body["refusal"]
    stored = await _get(operator, f"/api/chats/{GROUP}/words", language="en")
    assert stored["text_stored"] and list(stored["words"]) == ["en"]


@pytest.mark.parametrize(
    "query",
    [{"by": "likes"}, {"by": ""}, {"limit": 0}, {"limit": read.MAX_TOP + 1}],
)
async def test_a_bad_top_is_422(operator: httpx.AsyncClient, query: dict[str, Any]) -> None:
    reply = await operator.get(f"/api/chats/{GROUP}/top", params={**PERIOD, **query})
    assert reply.status_code == 422, reply.text


async def test_a_reversed_period_is_422(operator: httpx.AsyncClient) -> None:
    reply = await operator.get(
        f"/api/chats/{GROUP}/replies", params={"from": PERIOD["to"], "to": PERIOD["from"]}
    )
    assert reply.status_code == 422


@pytest.mark.parametrize(
    "route", ["/content", "/reactions", "/replies", "/topics", "/members/flow",
              f"/members/{ANN.user_id}", "/words", "/top?by=replies"],
)  # fmt: skip
async def test_a_link_reads_its_group_alone(
    anonymous: httpx.AsyncClient, conversation: dict[int, list[ChatEvent]], route: str
) -> None:
    """A link for GROUP opens its reports and is a 403 on ELSEWHERE's."""
    anonymous.headers[LINK_HEADER] = link(GROUP)
    assert (await anonymous.get(f"/api/chats/{GROUP}{route}")).status_code == 200
    refused = await anonymous.get(f"/api/chats/{ELSEWHERE}{route}")
    assert (refused.status_code, refused.json()) == (403, {"detail": OTHER_CHAT})
