"""`tally loadtest`'s simulated Bot API: updates handed out by long polling, replies passed to
the hook with the time they arrived."""

import aiohttp

from tally.cli.bot_api import DEFAULT_TOKEN, BotApiSimulator, SentMessage


async def test_updates_go_out_by_polling_and_replies_reach_the_hook() -> None:
    """getUpdates hands out what was pushed from ``offset`` on and notes when; a sendMessage
    reaches ``on_sent`` (and, with ``keep_sent=False``, is not kept); a wrong token gets 401."""
    seen: list[tuple[SentMessage, float]] = []
    async with (
        BotApiSimulator(on_sent=lambda sent, at: seen.append((sent, at)), keep_sent=False) as api,
        aiohttp.ClientSession(api.base_url) as http,
    ):
        first = api.push_message(7, 7, "How many videos?")
        second = api.push_group_message(-100, 8, "hello")
        async with http.post(f"/bot{DEFAULT_TOKEN}/getUpdates", json={"timeout": 1}) as answer:
            updates = (await answer.json())["result"]
        assert [update["update_id"] for update in updates] == [first, second]
        assert updates[1]["message"]["chat"] == {
            "id": -100,
            "type": "supergroup",
            "title": "Chat-100",
        }
        assert set(api.handed_at) == {first, second}
        reply = {"chat_id": 7, "text": "300"}
        async with http.post(f"/bot{DEFAULT_TOKEN}/sendMessage", json=reply) as answer:
            assert (await answer.json())["ok"]
        async with http.post("/bot1:wrong/getMe") as answer:
            assert answer.status == 401
    assert [sent for sent, _ in seen] == [SentMessage(chat_id=7, text="300")]
    assert api.sent == [] and api.calls == []
